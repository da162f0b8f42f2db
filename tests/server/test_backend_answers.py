"""Answers and failures that are not PropelAuth's own, as the client reports them.

A page from another server is never "not found"; a connection failure names the host and the cause;
each attempt has one deadline, body included, inside the retry budget; a runaway body is cut off; an
odd Retry-After never raises; an error body that echoes the API key is scrubbed.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx2
import pytest

from sandbox import create_app
from server.propelauth_client import MAX_ANSWER_BYTES, PropelAuthClient
from server.wire_answers import IDENTITY_PATH, retry_after_s
from tests.conftest import API_KEY, AUTH_URL
from tools.backend import (
    LONGEST_NAMED_WAIT_S,
    ApiRequest,
    BackendAnswerTooLarge,
    BackendError,
    BackendNotPropelAuth,
    BackendRefused,
    BackendTimeout,
    BackendUnreachable,
)

pytestmark = pytest.mark.anyio

USER_PATH = "/api/backend/v1/user/6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
READ = ApiRequest("GET", USER_PATH)
WRITE = ApiRequest("DELETE", USER_PATH, changes_state=True)
HTML_404 = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>nginx</body></html>"
PEM = {"verifier_key_pem": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"}


def client(handler: Callable[[httpx2.Request], Any], **options: Any) -> PropelAuthClient:
    async def no_sleep(seconds: float) -> None:
        pass

    http = httpx2.AsyncClient(
        transport=httpx2.MockTransport(handler),
        base_url="https://auth.example.com",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    return PropelAuthClient(http, sleep=no_sleep, **options)


def answering(routes: dict[str, httpx2.Response]) -> Callable[[httpx2.Request], httpx2.Response]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return routes[request.url.path]

    return handler


# --- whose answer is it -------------------------------------------------------------------------------


async def test_an_html_404_is_not_propelauth_and_not_a_missing_user() -> None:
    html = httpx2.Response(404, html=HTML_404, headers={"server": "nginx/1.25"})
    with pytest.raises(BackendNotPropelAuth) as raised:
        await client(answering({USER_PATH: html})).send(READ)
    text = str(raised.value)
    assert "auth.example.com" in text and "HTML" in text and "PROPELAUTH_AUTH_URL" in text
    assert "nginx" in text and raised.value.may_have_reached is False


async def test_a_text_404_from_a_host_without_propelauths_key_endpoint_is_not_propelauth() -> None:
    plain = httpx2.Response(404, text="404 page not found")
    with pytest.raises(BackendNotPropelAuth) as raised:
        await client(answering({USER_PATH: plain, IDENTITY_PATH: plain})).send(READ)
    assert "text/plain" in str(raised.value) and IDENTITY_PATH in str(raised.value)


async def test_a_json_404_of_another_shape_from_another_server_is_not_propelauth() -> None:
    fastapi = httpx2.Response(404, json={"detail": "Not Found"})
    with pytest.raises(BackendNotPropelAuth):
        await client(answering({USER_PATH: fastapi, IDENTITY_PATH: fastapi})).send(READ)


async def test_a_200_html_page_is_not_propelauth_and_a_write_answered_so_may_have_landed_somewhere() -> None:
    page = httpx2.Response(200, html="<html><body>Welcome</body></html>")
    with pytest.raises(BackendNotPropelAuth) as read:
        await client(answering({USER_PATH: page})).send(READ)
    with pytest.raises(BackendNotPropelAuth) as write:
        await client(answering({USER_PATH: page})).send(WRITE)
    assert "HTTP 200" in str(read.value)
    assert write.value.may_have_reached is True


async def test_a_redirect_is_not_propelauth_and_names_where_it_points() -> None:
    moved = httpx2.Response(301, headers={"location": "https://www.example.com/login?next=/x"})
    with pytest.raises(BackendNotPropelAuth) as raised:
        await client(answering({USER_PATH: moved})).send(READ)
    assert "301" in str(raised.value) and "www.example.com" in str(raised.value)
    assert "next=" not in str(raised.value)


@pytest.mark.parametrize("status", [300, 301, 308])
async def test_a_write_answered_by_a_redirect_is_reported_as_not_done(status: int) -> None:
    moved = httpx2.Response(status, headers={"location": "https://www.example.com/login"})
    with pytest.raises(BackendNotPropelAuth) as raised:
        await client(answering({USER_PATH: moved})).send(WRITE)
    assert raised.value.may_have_reached is False


async def test_a_404_and_a_host_check_of_another_shape_are_both_described() -> None:
    routes = {
        USER_PATH: httpx2.Response(404, json={"detail": "Not Found"}),
        IDENTITY_PATH: httpx2.Response(200, json={"ok": True}),
    }
    with pytest.raises(BackendNotPropelAuth) as raised:
        await client(answering(routes)).send(READ)
    json_body = "with a body of type application/json"
    assert f"HTTP 404 {json_body}, and {IDENTITY_PATH} answered HTTP 200 {json_body}" in str(raised.value)


async def test_a_404_is_trusted_without_a_check_once_the_start_up_check_saw_propelauth() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        return httpx2.Response(404, json={"detail": "Not Found"})

    backend = client(handler)
    backend.note_identified()
    assert (await backend.send(READ)).status == 404
    assert seen == [USER_PATH]


async def test_an_answer_not_from_propelauth_says_how_often_and_how_long_it_was_tried() -> None:
    now = [100.0]
    answers = [httpx2.Response(503), httpx2.Response(200, html="<html><body>Welcome</body></html>")]

    def handler(request: httpx2.Request) -> httpx2.Response:
        now[0] += 0.5
        return answers.pop(0)

    backend = client(handler, clock=lambda: now[0], jitter=lambda high: high)
    with pytest.raises(BackendNotPropelAuth) as raised:
        await backend.send(READ)
    assert (raised.value.attempts, raised.value.elapsed_s) == (2, 1.0)  # no_sleep: the wait took no time


async def test_a_404_from_a_host_answering_like_propelauth_is_not_found_and_checked_once() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        if request.url.path == IDENTITY_PATH:
            return httpx2.Response(200, json=PEM)
        return httpx2.Response(404, json={"message": "User not found"})

    backend = client(handler)
    first = await backend.send(READ)
    second = await backend.send(READ)
    assert (first.status, second.status) == (404, 404)
    assert seen == [USER_PATH, IDENTITY_PATH, USER_PATH]


async def test_an_empty_404_from_propelauth_is_not_found() -> None:
    routes = {USER_PATH: httpx2.Response(404), IDENTITY_PATH: httpx2.Response(200, json=PEM)}
    assert (await client(answering(routes)).send(READ)).status == 404


async def test_a_5xx_html_page_from_a_proxy_stays_a_server_error() -> None:
    bad_gateway = httpx2.Response(502, html="<html><body>502 Bad Gateway</body></html>")
    response = await client(answering({USER_PATH: bad_gateway}), max_retries=0).send(READ)
    assert response.status == 502


async def test_the_sandbox_404_for_an_unknown_user_is_not_found() -> None:
    app = create_app(api_key=API_KEY, db_path=":memory:", auth_url=AUTH_URL, seed=True)
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app),
        base_url=AUTH_URL,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    async with http:
        response = await PropelAuthClient(http).send(READ)
    assert response.status == 404


# --- connection failures: host and cause, never the key ---------------------------------------------


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("[Errno -2] Name or service not known", "DNS"),
        ("[Errno 8] nodename nor servname provided, or not known", "DNS"),
        ("[Errno -3] Temporary failure in name resolution", "DNS"),
        ("[Errno 111] Connection refused", "refused"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate", "TLS"),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", "TLS"),
        ("timed out", "timed out"),
    ],
)
async def test_a_connection_failure_names_the_host_and_the_cause(message: str, cause: str) -> None:
    def fail(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError(f"{message} {API_KEY}", request=request)

    with pytest.raises(BackendUnreachable) as raised:
        await client(fail, max_retries=0).send(READ)
    text = str(raised.value)
    assert "auth.example.com" in text and cause in text
    assert API_KEY not in text and raised.value.may_have_reached is False


async def test_a_refused_loopback_port_says_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    http = httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers)
    async with http:
        with anyio.fail_after(10), pytest.raises(BackendUnreachable) as raised:
            await PropelAuthClient(http, max_retries=0).send(READ)
    assert f"127.0.0.1:{port}" in str(raised.value) and "connection refused" in str(raised.value)
    assert raised.value.may_have_reached is False


# --- deadlines, budget, size ----------------------------------------------------------------------------


class Dripping(httpx2.AsyncByteStream):
    """A body that sends a byte now and then, forever: every read is quick, the whole never ends."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await anyio.sleep(0.01)


def dripping(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "application/json"}, stream=Dripping())


async def test_the_timeout_is_a_deadline_for_the_whole_answer_body_included() -> None:
    backend = client(dripping, timeout_s=0.3, max_retries=0)
    with anyio.fail_after(5), pytest.raises(BackendTimeout) as raised:
        await backend.send(READ)
    assert raised.value.attempts == 1 and raised.value.may_have_reached is True


async def test_the_retry_budget_bounds_an_attempt_longer_than_what_is_left() -> None:
    started = anyio.current_time()
    backend = client(dripping, timeout_s=30.0, retry_budget_s=0.3, max_retries=3)
    with anyio.fail_after(5), pytest.raises(BackendTimeout):
        await backend.send(READ)
    assert anyio.current_time() - started < 2.0


async def test_an_attempt_after_a_retry_gets_only_what_the_budget_has_left() -> None:
    now = [0.0]

    def handler(request: httpx2.Request) -> httpx2.Response:
        if now[0] == 0.0:
            now[0] = 0.9  # the first attempt took 0.9 s of the 1 s budget
            return httpx2.Response(503)
        return dripping(request)

    backend = client(handler, clock=lambda: now[0], jitter=lambda high: 0.0, retry_budget_s=1.0, timeout_s=30)
    started = anyio.current_time()
    with anyio.fail_after(5), pytest.raises(BackendTimeout):
        await backend.send(READ)
    assert anyio.current_time() - started < 0.8  # the 0.1 s left, not the 30 s timeout nor a second


async def test_the_host_check_behind_a_404_gets_only_what_the_budget_has_left() -> None:
    now = [0.0]

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == IDENTITY_PATH:
            return dripping(request)
        now[0] = 0.9
        return httpx2.Response(404, json={"message": "User not found"})

    backend = client(handler, clock=lambda: now[0], retry_budget_s=1.0, timeout_s=30.0)
    started = anyio.current_time()
    with anyio.fail_after(5):
        assert (await backend.send(READ)).status == 404  # the check was not answered: inconclusive
    assert anyio.current_time() - started < 0.8


class StallsAfter(httpx2.AsyncBaseTransport):
    """Reports httpcore's trace events up to `events`, then hangs, as a real connection would stall."""

    def __init__(self, *events: str) -> None:
        self.events = events

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        for event in self.events:
            await request.extensions["trace"](event, {})
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("events", "may_have_reached"),
    [
        (("connection.connect_tcp.started", "connection.connect_tcp.complete"), False),
        (("connection.start_tls.started",), False),
        (("connection.connect_tcp.complete", "http11.send_request_headers.started"), True),
    ],
    ids=["stalled-connecting", "stalled-in-tls-handshake", "stalled-after-sending-began"],
)
async def test_a_write_that_timed_out_before_it_began_to_leave_is_reported_as_not_sent(
    events: tuple[str, ...], may_have_reached: bool
) -> None:
    http = httpx2.AsyncClient(transport=StallsAfter(*events), base_url="https://auth.example.com")
    with anyio.fail_after(5), pytest.raises(BackendTimeout) as raised:
        await PropelAuthClient(http, timeout_s=0.1, max_retries=0).send(WRITE)
    assert raised.value.may_have_reached is may_have_reached


async def test_a_request_that_cannot_be_built_as_http_is_refused_unsent_saying_why() -> None:
    sent: list[httpx2.Request] = []
    huge = ApiRequest("GET", "/api/backend/v1/user/query", query={"email": "x" * 100_000})
    with pytest.raises(BackendRefused) as raised:
        await client(sent.append).send(huge)
    assert sent == [] and raised.value.may_have_reached is False
    assert "cannot be sent as HTTP" in str(raised.value) and "too long" in str(raised.value)


@pytest.mark.parametrize(
    "failure", [httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.ReadTimeout, httpx2.ReadError]
)
async def test_a_transport_failure_names_the_host_and_never_the_key(failure: type[Exception]) -> None:
    def fail(request: httpx2.Request) -> httpx2.Response:
        raise failure(f"odd failure for {API_KEY}")

    with pytest.raises(BackendError) as raised:
        await client(fail, max_retries=0).send(READ)
    text = str(raised.value)
    assert "auth.example.com" in text and "odd failure for [redacted]" in text and API_KEY not in text


async def test_a_dripping_write_is_not_sent_again() -> None:
    sent: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.method)
        return dripping(request)

    with anyio.fail_after(5), pytest.raises(BackendTimeout) as raised:
        await client(handler, timeout_s=0.2).send(WRITE)
    assert sent == ["DELETE"] and raised.value.may_have_reached is True


class Endless(httpx2.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b"x" * 65536
        while True:
            yield chunk
            await anyio.sleep(0)  # a checkpoint: were the cap missing, fail_after would still end the test


async def test_a_huge_streamed_answer_is_cut_off_with_a_clear_error() -> None:
    def huge(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "application/json"}, stream=Endless())

    with anyio.fail_after(10), pytest.raises(BackendAnswerTooLarge) as raised:
        await client(huge).send(READ)
    assert f"larger than {MAX_ANSWER_BYTES // 2**20} MiB" in str(raised.value)
    assert "auth.example.com" in str(raised.value) and raised.value.may_have_reached is True


class Watched(Endless):
    read = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        Watched.read = True
        async for chunk in super().__aiter__():
            yield chunk


async def test_an_answer_declaring_a_huge_length_is_refused_before_reading() -> None:
    def declared(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-length": str(10**12)}, stream=Watched())

    with anyio.fail_after(5), pytest.raises(BackendAnswerTooLarge):
        await client(declared, max_answer_bytes=1024).send(READ)
    assert Watched.read is False


class Chunks(httpx2.AsyncByteStream):
    def __init__(self, body: bytes, size: int) -> None:
        self.body, self.size = body, size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), self.size):
            yield self.body[start : start + self.size]


@pytest.mark.parametrize("declared", [True, False], ids=["length-declared", "streamed"])
async def test_an_answer_of_exactly_the_cap_is_read_whole_and_a_byte_more_is_refused(declared: bool) -> None:
    def answer(body: bytes) -> Callable[[httpx2.Request], httpx2.Response]:
        headers = {"content-type": "application/json"}
        if declared:
            headers["content-length"] = str(len(body))
        return lambda request: httpx2.Response(200, headers=headers, stream=Chunks(body, 100))

    exactly = b'{"users": "' + b"x" * 1011 + b'"}'
    assert len(exactly) == 1024
    response = await client(answer(exactly), max_answer_bytes=1024).send(READ)
    assert response.body == {"users": "x" * 1011}  # every chunk, joined as sent
    with pytest.raises(BackendAnswerTooLarge):
        await client(answer(exactly + b" "), max_answer_bytes=1024).send(READ)


# --- Retry-After -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("soon", None),
        ("-5", None),
        ("1e400", None),
        ("²", None),
        ("NaN", None),
        ("", None),
        ("2", 2.0),
        ("1.5", 1.5),
        ("9" * 400, LONGEST_NAMED_WAIT_S),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 32 Foo 99999 99:99:99 GMT", None),
    ],
)
def test_an_odd_retry_after_is_parsed_where_valid_and_ignored_otherwise(
    header: str, expected: float | None
) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_s({"retry-after": header}, None, now=now) == expected


@pytest.mark.parametrize(
    "header", ["soon", "-1", "1e400", "99999999999999999999", "Mon, 01 Jan 3000 00:00:00 GMT"]
)
async def test_an_odd_retry_after_on_a_429_never_raises_and_a_wait_past_the_budget_is_not_waited(
    header: str,
) -> None:
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    answers = [httpx2.Response(429, headers={"retry-after": header}), httpx2.Response(200, json={})]
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(lambda r: answers.pop(0)), base_url=AUTH_URL)
    response = await PropelAuthClient(http, sleep=record, retry_budget_s=15.0).send(READ)
    assert response.status in (200, 429)
    assert all(0 <= s < 15.0 for s in sleeps)


async def test_a_429_body_naming_an_endless_wait_is_clamped() -> None:
    text = "Rate limited. Please wait " + "9" * 400 + " seconds before trying again."
    response = await client(answering({USER_PATH: httpx2.Response(429, text=text)})).send(READ)
    assert (response.status, response.attempts, response.retry_after_s) == (429, 1, LONGEST_NAMED_WAIT_S)


# --- bodies that are not JSON ------------------------------------------------------------------------


async def test_a_text_body_is_decoded_in_its_declared_charset() -> None:
    latin1 = {"content-type": "text/plain; charset=iso-8859-1"}
    latin = httpx2.Response(500, content="échec".encode("latin-1"), headers=latin1)
    assert (await client(answering({USER_PATH: latin}), max_retries=0).send(READ)).body == "échec"


async def test_a_body_that_is_not_valid_text_is_returned_with_replacement_characters() -> None:
    broken = httpx2.Response(500, content=b"bad \xff\xfe bytes", headers={"content-type": "text/plain"})
    response = await client(answering({USER_PATH: broken}), max_retries=0).send(READ)
    assert response.body == "bad \ufffd\ufffd bytes"


# --- secrets in answers ----------------------------------------------------------------------------------


async def test_an_error_body_echoing_the_api_key_is_scrubbed_at_the_client() -> None:
    echo = httpx2.Response(500, json={"error": f"bad key {API_KEY} for request"})
    response = await client(answering({USER_PATH: echo}), max_retries=0).send(READ)
    assert API_KEY not in str(response.body) and "[redacted]" in response.body["error"]


@pytest.mark.parametrize(
    ("authorization", "scrubbed"),
    [("Bearer 12345678", True), ("Bearer 1234567", False), ("Basic 12345678", False)],
    ids=["bearer-key-8-characters", "bearer-key-too-short-to-scrub", "not-a-bearer-key"],
)
async def test_only_a_bearer_key_of_eight_characters_or_more_is_scrubbed_from_answers(
    authorization: str, scrubbed: bool
) -> None:
    """A shorter value is too likely to occur in an honest answer: scrubbing it would mangle answers."""
    value = authorization.partition(" ")[2]
    echo = httpx2.Response(500, json={"error": f"seen {value} here"})
    http = httpx2.AsyncClient(
        transport=httpx2.MockTransport(answering({USER_PATH: echo})),
        base_url="https://auth.example.com",
        headers={"Authorization": authorization},
    )
    response = await PropelAuthClient(http, max_retries=0).send(READ)
    assert response.body["error"] == ("seen [redacted] here" if scrubbed else f"seen {value} here")


@pytest.mark.parametrize(
    "check",
    [
        httpx2.Response(429, text="Rate limited. Please wait 3 seconds before trying again."),
        httpx2.Response(503),
        httpx2.Response(500),
        httpx2.Response(403, json={"message": "This API key may not do that"}),
        httpx2.Response(401, json={"message": "Unauthorized"}),
        httpx2.ReadTimeout("slow"),
    ],
    ids=["rate-limited", "failing", "failing-500", "key-lacks-that-permission", "key-refused", "timeout"],
)
async def test_a_404_stays_not_found_when_the_host_check_is_inconclusive(check: Any) -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        if request.url.path != IDENTITY_PATH:
            return httpx2.Response(404, json={"message": "User not found"})
        if isinstance(check, Exception):
            raise check
        return check

    backend = client(handler, max_retries=0)
    assert (await backend.send(READ)).status == 404
    assert (await backend.send(READ)).status == 404
    assert seen.count(IDENTITY_PATH) == 2  # not settled: asked again


async def test_a_404_with_a_host_check_answered_by_an_html_login_page_is_not_propelauth() -> None:
    routes = {
        USER_PATH: httpx2.Response(404, json={"error": "not found"}),
        IDENTITY_PATH: httpx2.Response(401, html="<html><body>Please sign in</body></html>"),
    }
    with pytest.raises(BackendNotPropelAuth):
        await client(answering(routes)).send(READ)
