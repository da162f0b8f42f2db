"""The sandbox held to the real wire by PropelAuth's official Python SDK (propelauth-py).

The SDK is the client the real service is built for: it parses each answer into its own types and
raises its own exceptions on the statuses it knows. Each test drives the sandbox through the SDK's
async client, whose documented seam is the httpx client it is given; that client reaches the sandbox
over an ASGI transport, so the requests are the SDK's own (its URLs on propelauth-api.com, its
`X-Propelauth-url` header, its bodies) and the answers are read by the SDK's own code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx  # the SDK's own HTTP stack (its seam takes an httpx.AsyncClient); the server uses httpx2
import pytest
from propelauth_py import AsyncAuth, TokenVerificationMetadata, UserQueryOrderBy
from propelauth_py.errors import CreateUserException, UpdateUserEmailException
from starlette.applications import Starlette

from sandbox import create_app
from sandbox.demo import EMPLOYEES, KNOWN_USER_EMAIL

API_KEY = "official-sdk-test-key"
AUTH_HOST = "auth.sdk-test.example"
SDK_METADATA_URL = "https://propelauth-api.com/api/v1/token_verification_metadata"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> Starlette:
    return create_app(api_key=API_KEY, auth_url=f"https://{AUTH_HOST}", seed=True)


async def _sdk_for(http: httpx.AsyncClient, api_key: str) -> AsyncAuth:
    # The SDK fetches the verifier key with a blocking call at start-up; the same request, made here
    # over the ASGI transport, gives it the metadata exactly as it would build it itself.
    answer = await http.get(
        SDK_METADATA_URL,
        headers={"Authorization": f"Bearer {api_key}", "X-Propelauth-url": AUTH_HOST},
    )
    answer.raise_for_status()
    metadata = TokenVerificationMetadata(
        verifier_key=answer.json()["verifier_key_pem"], issuer=f"https://{AUTH_HOST}"
    )
    return AsyncAuth(AUTH_HOST, api_key, metadata, httpx_client=http)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
async def sdk(http: httpx.AsyncClient) -> AsyncAuth:
    return await _sdk_for(http, API_KEY)


async def _new_user(sdk: AsyncAuth, email: str, **fields: Any) -> str:
    created = await sdk.create_user(email=email, password="a-long-enough-password-1", **fields)
    user_id: str = created.user_id
    return user_id


@pytest.mark.anyio
async def test_the_sdk_reads_a_seeded_user_with_its_org_memberships(sdk: AsyncAuth) -> None:
    user = await sdk.fetch_user_metadata_by_email(KNOWN_USER_EMAIL, include_orgs=True)

    assert user is not None
    assert user.email == KNOWN_USER_EMAIL
    assert user.first_name == "Ada"
    assert user.org_id_to_org_info, "Ada belongs to organizations in the demo data"
    by_id = await sdk.fetch_user_metadata_by_user_id(user.user_id)
    assert by_id is not None and by_id.email == KNOWN_USER_EMAIL


@pytest.mark.anyio
async def test_the_sdk_gets_none_for_unknown_users_and_malformed_ids(sdk: AsyncAuth) -> None:
    assert await sdk.fetch_user_metadata_by_email("nobody@example.com") is None
    assert await sdk.fetch_user_metadata_by_user_id("6f1c1b6e-0000-4000-8000-000000000000") is None
    assert await sdk.fetch_user_metadata_by_username("no-such-username") is None


@pytest.mark.anyio
async def test_the_sdk_creates_updates_and_finds_a_user(sdk: AsyncAuth) -> None:
    user_id = await _new_user(sdk, "sdk.created@example.com", first_name="Sdk", username="sdk-created")

    assert await sdk.update_user_metadata(user_id, last_name="Made", properties={"team": "ops"}) is True
    user = await sdk.fetch_user_metadata_by_username("sdk-created")
    assert user is not None
    assert (user.user_id, user.first_name, user.last_name) == (user_id, "Sdk", "Made")

    page = await sdk.fetch_users_by_query(
        page_size=5, email_or_username="sdk.created", order_by=UserQueryOrderBy.EMAIL
    )
    assert [found.user_id for found in page.users] == [user_id]
    assert page.total_users == 1


@pytest.mark.anyio
async def test_the_sdk_reads_the_field_errors_of_a_duplicate_email(sdk: AsyncAuth) -> None:
    with pytest.raises(CreateUserException) as raised:
        await sdk.create_user(email=KNOWN_USER_EMAIL)

    field_errors = raised.value.field_to_errors
    assert isinstance(field_errors, dict) and "email" in field_errors


@pytest.mark.anyio
async def test_the_sdk_changes_email_and_password_and_clears_the_password(sdk: AsyncAuth) -> None:
    user_id = await _new_user(sdk, "sdk.email@example.com")

    assert await sdk.update_user_email(user_id, "sdk.email.new@example.com", False) is True
    with pytest.raises(UpdateUserEmailException):
        await sdk.update_user_email(user_id, KNOWN_USER_EMAIL, False)
    assert await sdk.update_user_password(user_id, "another-long-password-2") is True
    assert await sdk.clear_user_password(user_id) is True

    user = await sdk.fetch_user_metadata_by_user_id(user_id)
    assert user is not None
    assert user.email == "sdk.email.new@example.com"
    assert user.has_password is False


@pytest.mark.anyio
async def test_the_sdk_disables_enables_logs_out_and_deletes(sdk: AsyncAuth) -> None:
    user_id = await _new_user(sdk, "sdk.lifecycle@example.com")

    assert await sdk.disable_user(user_id) is True
    disabled = await sdk.fetch_user_metadata_by_user_id(user_id)
    assert disabled is not None and disabled.enabled is False
    assert await sdk.enable_user(user_id) is True
    assert await sdk.logout_all_user_sessions(user_id) is True
    assert await sdk.disable_user_2fa(user_id) is True
    assert await sdk.delete_user(user_id) is True

    assert await sdk.fetch_user_metadata_by_user_id(user_id) is None


@pytest.mark.anyio
async def test_an_access_token_from_the_sandbox_validates_in_the_sdk(sdk: AsyncAuth) -> None:
    user = await sdk.fetch_user_metadata_by_email(KNOWN_USER_EMAIL)
    assert user is not None

    token = await sdk.create_access_token(user.user_id, 10)
    validated = sdk.validate_access_token_and_get_user(f"Bearer {token.access_token}")

    assert validated.user_id == user.user_id
    assert validated.email == KNOWN_USER_EMAIL


@pytest.mark.anyio
async def test_the_sdk_gets_a_magic_link_and_migrates_a_user(sdk: AsyncAuth) -> None:
    link = await sdk.create_magic_link(KNOWN_USER_EMAIL, expires_in_hours=2)
    assert link.url.startswith("http")

    migrated = await sdk.migrate_user_from_external_source(
        email="sdk.migrated@example.com", email_confirmed=True, existing_user_id="legacy-42"
    )
    found = await sdk.fetch_users_by_query(legacy_user_id="legacy-42")
    assert [user.user_id for user in found.users] == [migrated.user_id]


@pytest.mark.anyio
async def test_the_sdk_reads_a_dashboard_employee(sdk: AsyncAuth) -> None:
    employee_id, email = next(iter(EMPLOYEES.items()))

    employee = await sdk.fetch_employee_by_id(employee_id)

    assert employee is not None and employee.email == email


@pytest.mark.anyio
async def test_the_sdk_reports_a_wrong_api_key_as_its_own_error(
    sdk: AsyncAuth, http: httpx.AsyncClient
) -> None:
    wrong = AsyncAuth(AUTH_HOST, "not-the-key", sdk.token_verification_metadata, httpx_client=http)

    with pytest.raises(ValueError, match="integration_api_key"):
        await wrong.fetch_user_metadata_by_email(KNOWN_USER_EMAIL)
