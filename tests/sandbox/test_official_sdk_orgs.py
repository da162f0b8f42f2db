"""PropelAuth's official Python SDK (propelauth-py) against the sandbox: orgs, memberships, invites and
the further user reads, one test per SDK method at least, each asserting what the SDK parsed.

As in test_official_sdk.py, the SDK's async client is given an httpx client over an ASGI transport,
so the requests are the SDK's own and the answers are read by the SDK's own code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx  # the SDK's own HTTP stack (its seam takes an httpx.AsyncClient); the server uses httpx2
import pytest
from propelauth_py import AsyncAuth, TokenVerificationMetadata
from propelauth_py.api import OrgQueryOrderBy
from propelauth_py.errors import BadRequestException, UpdateUserMetadataException
from propelauth_py.types.user import MfaPhoneType, MfaTotpType
from starlette.applications import Starlette

from sandbox import create_app
from sandbox.demo import (
    CLINICAL_ROLES,
    HARBOR_HEALTH,
    KNOWN_USER_EMAIL,
    LUMEN_LABS,
    NORTHWIND,
    demo_user_id,
)

pytestmark = pytest.mark.anyio

API_KEY = "official-sdk-orgs-test-key"
AUTH_HOST = "auth.sdk-orgs-test.example"
SDK_METADATA_URL = "https://propelauth-api.com/api/v1/token_verification_metadata"
ADA = demo_user_id(KNOWN_USER_EMAIL)
GRACE = demo_user_id("grace.hopper@example.com")
SOFIA = demo_user_id("sofia.rossi@example.com")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> Starlette:
    return create_app(api_key=API_KEY, auth_url=f"https://{AUTH_HOST}", seed=True)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
async def sdk(http: httpx.AsyncClient) -> AsyncAuth:
    answer = await http.get(
        SDK_METADATA_URL, headers={"Authorization": f"Bearer {API_KEY}", "X-Propelauth-url": AUTH_HOST}
    )
    answer.raise_for_status()
    metadata = TokenVerificationMetadata(
        verifier_key=answer.json()["verifier_key_pem"], issuer=f"https://{AUTH_HOST}"
    )
    return AsyncAuth(AUTH_HOST, API_KEY, metadata, httpx_client=http)


# --- more user reads --------------------------------------------------------------------------


async def test_fetch_batch_user_metadata_by_user_ids(sdk: AsyncAuth) -> None:
    unknown = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"
    users = await sdk.fetch_batch_user_metadata_by_user_ids([ADA, GRACE, unknown], include_orgs=True)
    assert set(users) == {ADA, GRACE}
    assert users[ADA]["email"] == KNOWN_USER_EMAIL
    assert users[GRACE]["org_id_to_org_info"][LUMEN_LABS]["additional_roles"] == ["Billing Admin"]


async def test_fetch_batch_user_metadata_by_emails(sdk: AsyncAuth) -> None:
    users = await sdk.fetch_batch_user_metadata_by_emails([KNOWN_USER_EMAIL, "nobody@example.com"])
    assert list(users) == [KNOWN_USER_EMAIL]
    assert users[KNOWN_USER_EMAIL]["user_id"] == ADA


async def test_fetch_batch_user_metadata_by_usernames(sdk: AsyncAuth) -> None:
    users = await sdk.fetch_batch_user_metadata_by_usernames(["ada", "ghopper", "ghost"])
    assert set(users) == {"ada", "ghopper"}
    assert users["ghopper"]["user_id"] == GRACE


async def test_fetch_users_in_org(sdk: AsyncAuth) -> None:
    page = await sdk.fetch_users_in_org(LUMEN_LABS, page_size=5, include_orgs=True)
    assert (page.total_users, page.page_size, page.current_page, page.has_more_results) == (13, 5, 0, True)
    assert len(page.users) == 5
    ada = next(user for user in page.users if user.user_id == ADA)
    assert ada.org_id_to_org_info is not None
    assert ada.org_id_to_org_info[LUMEN_LABS].user_assigned_role == "Owner"
    admins = await sdk.fetch_users_in_org(LUMEN_LABS, role="Admin")
    assert {user.email for user in admins.users} == {
        "grace.hopper@example.com",
        "margaret.hamilton@example.com",
    }


async def test_fetch_user_mfa_methods(sdk: AsyncAuth) -> None:
    totp = await sdk.fetch_user_mfa_methods(ADA)
    assert totp is not None and isinstance(totp.mfa_setup, MfaTotpType)
    phone = await sdk.fetch_user_mfa_methods(demo_user_id("marcus.reed@example.com"))
    assert phone is not None and isinstance(phone.mfa_setup, MfaPhoneType)
    assert [number.mfa_phone_number_suffix for number in phone.mfa_setup.phone_numbers] == ["4821"]
    none = await sdk.fetch_user_mfa_methods(GRACE)
    assert none is not None and none.mfa_setup is None
    assert await sdk.fetch_user_mfa_methods("5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21") is None


async def test_enable_and_disable_user_can_create_orgs(sdk: AsyncAuth) -> None:
    assert await sdk.enable_user_can_create_orgs(SOFIA) is True
    user = await sdk.fetch_user_metadata_by_user_id(SOFIA)
    assert user is not None and user.can_create_orgs is True
    assert await sdk.disable_user_can_create_orgs(SOFIA) is True
    user = await sdk.fetch_user_metadata_by_user_id(SOFIA)
    assert user is not None and user.can_create_orgs is False


async def test_fetch_user_signup_query_params(sdk: AsyncAuth) -> None:
    params = await sdk.fetch_user_signup_query_params_by_user_id(demo_user_id("liam.murphy@example.com"))
    assert params is not None
    assert params.user_signup_query_parameters == {
        "utm_source": "newsletter",
        "utm_campaign": "spring-launch",
    }
    empty = await sdk.fetch_user_signup_query_params_by_user_id(ADA)
    assert empty is not None and empty.user_signup_query_parameters == {}


# --- orgs -----------------------------------------------------------------------------------


async def test_fetch_org(sdk: AsyncAuth) -> None:
    org = await sdk.fetch_org(HARBOR_HEALTH)
    assert org is not None
    assert (org.org_id, org.name, org.url_safe_org_slug) == (HARBOR_HEALTH, "Harbor Health", "harbor-health")
    assert (org.max_users, org.custom_role_mapping_name) == (11, CLINICAL_ROLES)
    assert (org.domain, org.domain_restrict, org.legacy_org_id) == (
        "harborhealth.example",
        False,
        "sf:0015g00000HHx01",
    )
    assert await sdk.fetch_org("0d6a3b2c-1e4f-4a5b-8c7d-9e0f1a2b3c4d") is None


async def test_fetch_org_by_query(sdk: AsyncAuth) -> None:
    page = await sdk.fetch_org_by_query(page_size=2, order_by=OrgQueryOrderBy.NAME)
    assert [org.name for org in page.orgs] == ["Harbor Health", "Lumen Labs"]
    assert (page.total_orgs, page.has_more_results) == (3, True)
    by_name = await sdk.fetch_org_by_query(name="north")
    assert [org.org_id for org in by_name.orgs] == [NORTHWIND]
    by_domain = await sdk.fetch_org_by_query(domain="example.com")
    assert [org.org_id for org in by_domain.orgs] == [LUMEN_LABS]
    by_legacy = await sdk.fetch_org_by_query(legacy_org_id="nw-legacy-1987")
    assert [org.legacy_org_id for org in by_legacy.orgs] == ["nw-legacy-1987"]


async def test_fetch_org_by_query_out_of_bounds_is_the_sdks_bad_request(sdk: AsyncAuth) -> None:
    with pytest.raises(ValueError, match="Bad request"):
        await sdk.fetch_org_by_query(page_size=500)


async def test_create_org(sdk: AsyncAuth) -> None:
    created = await sdk.create_org(
        "Acme Rockets",
        enable_auto_joining_by_domain=True,
        members_must_have_matching_domain=True,
        domain="acme.example",
        max_users=25,  # the SDK annotates it as str; the wire is an integer
        custom_role_mapping_name="Reseller Partners",
        legacy_org_id="acme-1",
    )
    assert created.name == "Acme Rockets"
    org = await sdk.fetch_org(created.org_id)
    assert org is not None
    assert (org.domain_autojoin, org.domain_restrict, org.max_users) == (True, True, 25)
    assert org.custom_role_mapping_name == "Reseller Partners"


async def test_create_org_with_an_unknown_role_mapping_is_the_sdks_bad_request(sdk: AsyncAuth) -> None:
    with pytest.raises(BadRequestException) as raised:
        await sdk.create_org("Acme", custom_role_mapping_name="Nope")
    assert "custom_role_mapping_name" in raised.value.field_to_errors


async def test_update_org_metadata(sdk: AsyncAuth) -> None:
    assert (
        await sdk.update_org_metadata(
            NORTHWIND,
            name="Northwind Traders Ltd",
            can_setup_saml=True,
            metadata={"plan": "enterprise"},
            max_users=100,
            can_join_on_email_domain_match=False,
            members_must_have_email_domain_match=True,
            domain="northwind.example",
            require_2fa_by="2030-06-01T00:00:00Z",
            extra_domains=["nw.example"],
            password_rotation_enabled=True,
            password_rotation_history_size=3,
            password_rotation_period=60,
        )
        is True
    )
    org = await sdk.fetch_org(NORTHWIND)
    assert org is not None
    assert (org.name, org.url_safe_org_slug, org.can_setup_saml) == (
        "Northwind Traders Ltd",
        "northwind-traders-ltd",
        True,
    )
    assert (org.metadata, org.max_users, org.extra_domains) == ({"plan": "enterprise"}, 100, ["nw.example"])
    assert (org.domain_autojoin, org.domain_restrict) == (False, True)
    assert (
        org.password_rotation_enabled,
        org.password_rotation_history_size,
        org.password_rotation_period,
    ) == (
        True,
        3,
        60,
    )
    assert await sdk.update_org_metadata("0d6a3b2c-1e4f-4a5b-8c7d-9e0f1a2b3c4d", name="X") is False


async def test_subscribe_org_to_role_mapping(sdk: AsyncAuth) -> None:
    assert await sdk.subscribe_org_to_role_mapping(NORTHWIND, "Reseller Partners") is True
    org = await sdk.fetch_org(NORTHWIND)
    assert org is not None and org.custom_role_mapping_name == "Reseller Partners"
    # Lumen Labs has a Support Agent, a role Reseller Partners does not define: the SDK's 400.
    with pytest.raises(UpdateUserMetadataException) as refused:
        await sdk.subscribe_org_to_role_mapping(LUMEN_LABS, "Reseller Partners")
    assert "custom_role_mapping_name" in refused.value.field_to_errors


async def test_fetch_custom_role_mappings(sdk: AsyncAuth) -> None:
    mappings = await sdk.fetch_custom_role_mappings()
    counts = {m.custom_role_mapping_name: m.num_orgs_subscribed for m in mappings.custom_role_mappings}
    assert counts == {CLINICAL_ROLES: 1, "Reseller Partners": 0}


async def test_delete_org(sdk: AsyncAuth) -> None:
    assert await sdk.delete_org(NORTHWIND) is True
    assert await sdk.fetch_org(NORTHWIND) is None
    ada = await sdk.fetch_user_metadata_by_user_id(ADA, include_orgs=True)
    assert ada is not None and ada.org_id_to_org_info is not None
    assert set(ada.org_id_to_org_info) == {LUMEN_LABS}
    assert await sdk.delete_org(NORTHWIND) is False


# --- memberships ----------------------------------------------------------------------------


async def test_add_user_to_org(sdk: AsyncAuth) -> None:
    assert await sdk.add_user_to_org(SOFIA, LUMEN_LABS, "Admin", additional_roles=["Support Agent"]) is True
    user = await sdk.fetch_user_metadata_by_user_id(SOFIA, include_orgs=True)
    assert user is not None and user.org_id_to_org_info is not None
    member = user.org_id_to_org_info[LUMEN_LABS]
    assert (member.user_assigned_role, member.assigned_additional_roles) == ("Admin", ["Support Agent"])
    assert member.user_inherited_roles_plus_current_role == ["Admin", "Member"]
    assert "support::view_tickets" in member.user_permissions


async def test_add_user_to_org_refusals_are_the_sdks_bad_request_with_the_field_map(sdk: AsyncAuth) -> None:
    with pytest.raises(BadRequestException) as unknown_role:
        await sdk.add_user_to_org(SOFIA, LUMEN_LABS, "Wizard")
    assert unknown_role.value.field_to_errors == {"role": ["Unknown role: Wizard"]}
    with pytest.raises(BadRequestException) as full:
        await sdk.add_user_to_org(SOFIA, HARBOR_HEALTH, "Member")
    assert "org_id" in full.value.field_to_errors


async def test_change_user_role_in_org(sdk: AsyncAuth) -> None:
    assert await sdk.change_user_role_in_org(GRACE, LUMEN_LABS, "Owner", additional_roles=[]) is True
    user = await sdk.fetch_user_metadata_by_user_id(GRACE, include_orgs=True)
    assert user is not None and user.org_id_to_org_info is not None
    member = user.org_id_to_org_info[LUMEN_LABS]
    assert (member.user_assigned_role, member.assigned_additional_roles) == ("Owner", [])
    assert await sdk.change_user_role_in_org(SOFIA, LUMEN_LABS, "Member") is False  # not a member


async def test_remove_user_from_org(sdk: AsyncAuth) -> None:
    assert await sdk.remove_user_from_org(ADA, NORTHWIND) is True
    user = await sdk.fetch_user_metadata_by_user_id(ADA, include_orgs=True)
    assert user is not None and user.org_id_to_org_info is not None
    assert set(user.org_id_to_org_info) == {LUMEN_LABS}
    assert await sdk.remove_user_from_org(ADA, NORTHWIND) is False


# --- invites --------------------------------------------------------------------------------


async def test_invite_user_to_org(sdk: AsyncAuth) -> None:
    assert (
        await sdk.invite_user_to_org("casey.new@example.com", LUMEN_LABS, "Member", ["Billing Admin"]) is True
    )
    page = await sdk.fetch_pending_invites(org_id=LUMEN_LABS)
    assert page is not None
    invite = next(item for item in page.invites if item.invitee_email == "casey.new@example.com")
    assert (invite.role_in_org, invite.additional_roles_in_org) == ("Member", ["Billing Admin"])
    assert invite.expires_at > invite.created_at


async def test_invite_user_to_org_of_an_existing_member_is_the_sdks_bad_request(sdk: AsyncAuth) -> None:
    with pytest.raises(BadRequestException):
        await sdk.invite_user_to_org(KNOWN_USER_EMAIL, LUMEN_LABS, "Member")


async def test_invite_user_to_org_by_user_id(sdk: AsyncAuth) -> None:
    liam = demo_user_id("liam.murphy@example.com")
    assert await sdk.invite_user_to_org_by_user_id(liam, NORTHWIND, "Admin") is True
    page = await sdk.fetch_pending_invites(org_id=NORTHWIND)
    assert page is not None
    assert "liam.murphy@example.com" in [item.invitee_email for item in page.invites]


async def test_fetch_pending_invites(sdk: AsyncAuth) -> None:
    page = await sdk.fetch_pending_invites(page_size=2)
    assert page is not None
    assert (page.total_invites, page.page_size, page.current_page, page.has_more_results) == (3, 2, 0, True)
    first = page.invites[0]
    assert (first.invitee_email, first.org_name, first.inviter_email) == (
        "jordan.blake@example.com",
        "Lumen Labs",
        KNOWN_USER_EMAIL,
    )


async def test_revoke_pending_org_invite(sdk: AsyncAuth) -> None:
    assert await sdk.revoke_pending_org_invite(LUMEN_LABS, "noor.hassan@example.com") == {}
    page = await sdk.fetch_pending_invites(org_id=LUMEN_LABS)
    assert page is not None
    assert "noor.hassan@example.com" not in [item.invitee_email for item in page.invites]
