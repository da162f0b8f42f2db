"""Valid arguments for any tool, from its input schema and the demo data alone (no per-tool code).

Property tests that must call every tool (no leaks, least privilege) use these: each required
argument gets a demo value chosen by its name, else by its format, else by its type.
"""

from __future__ import annotations

from typing import Any

from sandbox.demo import EMPLOYEES, LUMEN_LABS, demo_user_id
from tools import ToolDefinition

ADA_EMAIL = "ada@example.com"
ADA = demo_user_id(ADA_EMAIL)
EMPLOYEE = next(iter(EMPLOYEES))

BY_NAME: dict[str, Any] = {
    "user_id": ADA,
    "org_id": LUMEN_LABS,
    "employee_id": EMPLOYEE,
    "user_ids": [ADA],
    "emails": [ADA_EMAIL],
    "usernames": ["ada"],
    "role": "Member",
    "name": "Demo Argument Org",
    "username": "ada",
    "api_key_id": "0123456789abcdef0123456789abcdef",
    "group_id": "demo-group",
    "date": "2026-11-30",
    "idp_entity_id": "https://idp.example.com/demo",
    "idp_sso_url": "https://idp.example.com/demo/sso",
    "client_id": "demo-client",
    # Secrets: values no other argument or demo record holds, so the no-leak test can look for them.
    "api_key_token": "demo-api-key-token-7f3c9a1e5b",
    "imported_api_key": "demo-imported-key-2d8e4b6f0a",
    "client_secret": "demo-oidc-client-secret-9c1f7e3a",
}
# The demo values of secret arguments (tests/trust/test_no_leaks.py checks that none of them leaks).
SECRET_DEMO_VALUES: tuple[str, ...] = (
    BY_NAME["api_key_token"],
    BY_NAME["imported_api_key"],
    BY_NAME["client_secret"],
)
BY_FORMAT: dict[str, Any] = {"uuid": ADA, "email": ADA_EMAIL}
BY_TYPE: dict[str, Any] = {"string": "demo", "boolean": False, "integer": 1, "array": [], "object": {}}


def _value(name: str, schema: dict[str, Any]) -> Any:
    if name in BY_NAME:
        return BY_NAME[name]
    if schema.get("enum"):
        return next(value for value in schema["enum"] if value is not None)
    if schema.get("format") in BY_FORMAT:
        return BY_FORMAT[schema["format"]]
    kind = schema.get("type")
    return BY_TYPE[kind[0] if isinstance(kind, list) else kind]


def demo_arguments(definition: ToolDefinition, *, confirm: bool = True) -> dict[str, Any]:
    """The required arguments with demo values (and confirm: true for a gated tool, unless told not)."""
    schema = definition.input_schema
    properties = schema["properties"]
    arguments = {name: _value(name, properties[name]) for name in schema.get("required", ())}
    if confirm and definition.requires_confirmation:
        arguments["confirm"] = True
    minimum = schema.get("minProperties", 0)
    for name in properties:  # an update needs one field beyond the target's id
        if len(arguments) - ("confirm" in arguments) >= minimum:
            break
        if name not in arguments and name != "confirm":
            arguments[name] = _value(name, properties[name])
    return arguments
