import anyio, pytest
from tests.http.conftest import *
@pytest.mark.anyio
async def test_smoke(start_http):
    async with start_http() as srv:
        async with http_client(srv.url, token=ALICE_TOKEN, mode="auto") as c:
            print(len((await c.list_tools()).tools))
            r = await c.call_tool("query_users", {"email_or_username": "ada@"})
            print(r.structured_content)
        print(srv.settings.audit_path.read_text())
