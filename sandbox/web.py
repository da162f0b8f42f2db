"""What every handler module shares: answers, the 400 field map, body and paging parameters."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.state import Sandbox
from sandbox.validation import Invalid, Kind, check_body, is_user_id, parse_json_object, query_bool, query_int

API = "/api/backend/v1"
MAX_PAGE_SIZE = 100

Handler = Callable[[Request], Awaitable[Response]]


def ok(body: Any = None) -> JSONResponse:
    return JSONResponse({} if body is None else body)


def message(status: int, text: str) -> JSONResponse:
    return JSONResponse({"message": text}, status_code=status)


def user_not_found() -> JSONResponse:
    return message(404, "User not found")


def org_not_found() -> JSONResponse:
    return message(404, "Org not found")


def orgs_not_enabled() -> JSONResponse:
    return message(426, "Organizations are not enabled for this project")


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def handles_invalid(handler: Handler) -> Handler:
    """Turn a validation failure into the service's 400: the flat field -> messages map."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Invalid as invalid:
            return JSONResponse(invalid.errors, status_code=400)

    return wrapped


def needs_orgs(handler: Handler) -> Handler:
    """A 426 before anything else when the project has organizations turned off."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        if not sandbox_of(request).orgs_enabled:
            return orgs_not_enabled()
        return await handler(request)

    return wrapped


async def json_body(
    request: Request, fields: Mapping[str, Kind], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    return check_body(parse_json_object(await request.body()), fields, required)


def path_id(request: Request, name: str) -> str | None:
    """The path parameter if it has the form of an id (lowercase canonical UUID v4), else None."""
    value = str(request.path_params[name])
    return value if is_user_id(value) else None


def wants_orgs(request: Request) -> bool:
    errors: dict[str, list[str]] = {}
    include = query_bool(request.query_params, "include_orgs", errors)
    if errors:
        raise Invalid(errors)
    return include


def paging(params: Mapping[str, str], errors: dict[str, list[str]]) -> tuple[int, int]:
    """`page_size` (1-100, default 10) and `page_number` (0-based), as for every paged answer."""
    page_size = query_int(params, "page_size", 10, 1, MAX_PAGE_SIZE, errors)
    page_number = query_int(params, "page_number", 0, 0, None, errors)
    return page_size, page_number


def page(things: str, items: list[Any], total: int, page_size: int, page_number: int) -> JSONResponse:
    """A paged answer: `{<things>: [...], total_<things>, current_page, page_size, has_more_results}`."""
    return ok(
        {
            things: items,
            f"total_{things}": total,
            "current_page": page_number,
            "page_size": page_size,
            "has_more_results": (page_number + 1) * page_size < total,
        }
    )
