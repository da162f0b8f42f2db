"""Property-based run of the corrected spec against the sandbox: no server errors, no off-spec responses.

Also checks that the corrected spec parses under a strict OpenAPI 3.1 validator.
"""

from __future__ import annotations

import copy
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox import create_app
from sandbox.demo import demo_user_id
from schemas import load_spec
from tests.sandbox.sandbox_testkit import API_KEY

# One seeded sandbox for the whole run, so that generated requests meet real users as well as unknown ones.
APP = create_app(api_key=API_KEY, seed=True)


def _user_id_examples(*emails: str) -> dict[str, Any]:
    return {email.split("@")[0]: {"value": demo_user_id(email)} for email in emails}


def spec_with_demo_examples() -> dict[str, Any]:
    """The spec, plus demo user ids as examples of `userId`: random UUIDs alone would only meet 404s.

    deleteUser gets users of its own, so that it does not remove the others' examples.
    """
    spec = copy.deepcopy(load_spec())
    user_id = spec["components"]["parameters"]["UserId"]
    delete_user_id = {
        **copy.deepcopy(user_id),
        "examples": _user_id_examples(
            "ethan.brooks@example.com", "aisha.khan@example.com", "freya.nielsen@example.com"
        ),
    }
    user_id["examples"] = _user_id_examples(
        "grace.hopper@example.com", "kenji.watanabe@example.com", "alan.turing@example.com"
    )
    spec["paths"]["/api/backend/v1/user/{userId}"]["delete"]["parameters"] = [delete_user_id]
    return spec


schema = schemathesis.openapi.from_dict(spec_with_demo_examples())
schema.app = APP


def test_the_corrected_spec_is_valid_openapi_3_1() -> None:
    validate(copy.deepcopy(load_spec()))


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_sandbox_conforms_to_the_corrected_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {API_KEY}"},
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
        ],
    )
