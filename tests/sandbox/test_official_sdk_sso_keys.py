"""PropelAuth's official Python SDK (propelauth-py) against the sandbox: end-user API keys, SSO
(SAML, OIDC, SCIM) and insights, one test per SDK method, each asserting what the SDK parsed.

As in test_official_sdk_orgs.py, the SDK's async client is given an httpx client over an ASGI
transport, so the requests are the SDK's own and the answers are read by the SDK's own code.
(The SDK's synchronous `fetch_api_key_usage` cannot send a request at all: it passes the date
string to its query formatter, which expects a dict. The async one, tested here, works.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx  # the SDK's own HTTP stack (its seam takes an httpx.AsyncClient); the server uses httpx2
import pytest
from propelauth_py import AsyncAuth, TokenVerificationMetadata
from propelauth_py.errors import EndUserApiKeyException, EndUserApiKeyNotFoundException
from propelauth_py.types.saml_types import SamlIdpMetadata, SetGenericOidcMetadataRequest
from propelauth_py.types.user_insights import (
    AttritionReportInterval,
    ChampionReportInterval,
    ChartMetric,
    ChartMetricCadence,
    ChurnReportInterval,
    GrowthReportInterval,
    ReengagementReportInterval,
    TopInviterReportInterval,
)
from starlette.applications import Starlette

from sandbox import create_app
from sandbox.demo import (
    DEMO_API_KEYS,
    DEMO_SCIM_GROUPS,
    HARBOR_HEALTH,
    KNOWN_USER_EMAIL,
    LUMEN_LABS,
    NORTHWIND,
    demo_user_id,
)
from sandbox.state import Sandbox

pytestmark = pytest.mark.anyio

API_KEY = "official-sdk-sso-keys-test-key"
AUTH_HOST = "auth.sdk-sso-keys-test.example"
SDK_METADATA_URL = "https://propelauth-api.com/api/v1/token_verification_metadata"
ADA = demo_user_id(KNOWN_USER_EMAIL)
GRACE = demo_user_id("grace.hopper@example.com")
ADA_KEY = DEMO_API_KEYS["Ada's CLI"]
NORTHWIND_KEY = DEMO_API_KEYS["Northwind ERP sync"]
GRACE_KEY = DEMO_API_KEYS["Grace's Lumen key"]
IDP = SamlIdpMetadata(
    idp_entity_id="http://www.okta.com/exk1",
    idp_sso_url="https://harbor.okta.example/app/sso/saml",
    idp_certificate="-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
    provider="Okta",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> Starlette:
    return create_app(api_key=API_KEY, auth_url=f"https://{AUTH_HOST}", seed=True)


@pytest.fixture
def sandbox(app: Starlette) -> Sandbox:
    state: Sandbox = app.state.sandbox
    return state


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client
    app.state.sandbox.close()


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


# --- end-user API keys ---------------------------------------------------------------------


async def test_create_api_key(sdk: AsyncAuth) -> None:
    created = await sdk.create_api_key(user_id=ADA, metadata={"scope": "write"}, display_name="SDK key")
    assert len(created.api_key_id) == 32 and len(created.api_key_token) == 64
    fetched = await sdk.fetch_api_key(created.api_key_id)
    assert (fetched.user_id, fetched.display_name, fetched.metadata) == (ADA, "SDK key", {"scope": "write"})


async def test_fetch_api_key(sdk: AsyncAuth) -> None:
    key = await sdk.fetch_api_key(NORTHWIND_KEY.api_key_id)
    assert (key.org_id, key.user_id, key.display_name) == (NORTHWIND, None, "Northwind ERP sync")
    assert key.metadata == {"system": "erp"} and key.expires_at_seconds is None
    with pytest.raises(EndUserApiKeyNotFoundException):
        await sdk.fetch_api_key("0" * 32)


async def test_fetch_current_api_keys(sdk: AsyncAuth) -> None:
    page = await sdk.fetch_current_api_keys(org_id=LUMEN_LABS)
    assert [key.display_name for key in page.api_keys] == ["Grace's Lumen key"]
    assert (page.total_api_keys, page.current_page, page.has_more_results) == (1, 0, False)
    by_email = await sdk.fetch_current_api_keys(user_email=KNOWN_USER_EMAIL)
    assert [key.api_key_id for key in by_email.api_keys] == [ADA_KEY.api_key_id]


async def test_fetch_archived_api_keys(sdk: AsyncAuth) -> None:
    page = await sdk.fetch_archived_api_keys(page_size=1)
    assert (page.total_api_keys, page.page_size, page.has_more_results) == (2, 1, True)
    northwind = await sdk.fetch_archived_api_keys(org_id=NORTHWIND)
    assert [key.display_name for key in northwind.api_keys] == ["Old Northwind import"]


async def test_update_api_key(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    later = sandbox.now() + 3600
    assert await sdk.update_api_key(ADA_KEY.api_key_id, expires_at_seconds=later, metadata={"v": 2}) is True
    key = await sdk.fetch_api_key(ADA_KEY.api_key_id)
    assert (key.expires_at_seconds, key.metadata) == (later, {"v": 2})
    assert await sdk.update_api_key(ADA_KEY.api_key_id, set_to_never_expire=True) is True
    assert (await sdk.fetch_api_key(ADA_KEY.api_key_id)).expires_at_seconds is None
    with pytest.raises(EndUserApiKeyNotFoundException):
        await sdk.update_api_key("0" * 32, metadata={"v": 3})


async def test_delete_api_key(sdk: AsyncAuth) -> None:
    assert await sdk.delete_api_key(NORTHWIND_KEY.api_key_id) is True
    archived = await sdk.fetch_archived_api_keys(org_id=NORTHWIND)
    assert NORTHWIND_KEY.api_key_id in {key.api_key_id for key in archived.api_keys}
    with pytest.raises(EndUserApiKeyException):
        await sdk.validate_api_key(NORTHWIND_KEY.token)


async def test_validate_api_key(sdk: AsyncAuth) -> None:
    validation = await sdk.validate_api_key(f"Bearer {GRACE_KEY.token}")
    assert validation.user is not None and validation.user.user_id == GRACE
    assert validation.org is not None and (validation.org.org_id, validation.org.name) == (
        LUMEN_LABS,
        "Lumen Labs",
    )
    assert validation.user_in_org is not None
    assert (validation.user_in_org.org_id, validation.user_in_org.user_assigned_role) == (LUMEN_LABS, "Admin")
    with pytest.raises(EndUserApiKeyException):
        await sdk.validate_api_key(DEMO_API_KEYS["Old Northwind import"].token)


async def test_validate_personal_api_key(sdk: AsyncAuth) -> None:
    validation = await sdk.validate_personal_api_key(ADA_KEY.token)
    assert validation.user.user_id == ADA and validation.metadata == {"scope": "read"}
    with pytest.raises(EndUserApiKeyException):
        await sdk.validate_personal_api_key(NORTHWIND_KEY.token)


async def test_validate_org_api_key(sdk: AsyncAuth) -> None:
    validation = await sdk.validate_org_api_key(NORTHWIND_KEY.token)
    assert validation.org.org_id == NORTHWIND and validation.user is None
    with pytest.raises(EndUserApiKeyException):
        await sdk.validate_org_api_key(ADA_KEY.token)


async def test_import_api_key(sdk: AsyncAuth) -> None:
    imported = await sdk.import_api_key("legacy_sk_0123456789abcdef", org_id=NORTHWIND, display_name="Legacy")
    assert len(imported.api_key_id) == 32
    assert (await sdk.fetch_api_key(imported.api_key_id)).display_name == "Legacy"


async def test_validate_imported_api_key(sdk: AsyncAuth) -> None:
    await sdk.import_api_key("legacy_sk_fedcba9876543210", user_id=ADA)
    validation = await sdk.validate_imported_api_key("legacy_sk_fedcba9876543210")
    assert validation.user is not None and validation.user.email == KNOWN_USER_EMAIL
    with pytest.raises(EndUserApiKeyException):
        await sdk.validate_api_key("legacy_sk_fedcba9876543210")


async def test_fetch_api_key_usage(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    today = datetime.fromtimestamp(sandbox.now(), UTC).date().isoformat()
    for _ in range(2):
        await sdk.validate_api_key(ADA_KEY.token)
    await sdk.validate_api_key(GRACE_KEY.token)
    assert (await sdk.fetch_api_key_usage(today)).count == 3
    assert (await sdk.fetch_api_key_usage(today, api_key_id=ADA_KEY.api_key_id)).count == 2
    assert (await sdk.fetch_api_key_usage(today, org_id=LUMEN_LABS)).count == 1


# --- SSO -------------------------------------------------------------------------------------


async def test_allow_org_to_setup_saml_connection(sdk: AsyncAuth) -> None:
    assert await sdk.allow_org_to_setup_saml_connection(NORTHWIND) is True
    assert (await sdk.fetch_org(NORTHWIND)).can_setup_saml is True
    assert await sdk.allow_org_to_setup_saml_connection("0d6a3b2c-1e4f-4a5b-8c7d-9e0f1a2b3c4d") is False


async def test_disallow_org_to_setup_saml_connection(sdk: AsyncAuth) -> None:
    assert await sdk.disallow_org_to_setup_saml_connection(HARBOR_HEALTH) is True
    assert (await sdk.fetch_org(HARBOR_HEALTH)).can_setup_saml is False


async def test_create_org_saml_connection_link(sdk: AsyncAuth) -> None:
    link = await sdk.create_org_saml_connection_link(HARBOR_HEALTH, expires_in_seconds=600)
    assert link["url"].startswith(f"https://{AUTH_HOST}/saml_setup/")


async def test_fetch_saml_sp_metadata(sdk: AsyncAuth) -> None:
    metadata = await sdk.fetch_saml_sp_metadata(HARBOR_HEALTH)
    assert metadata is not None
    assert metadata.entity_id == f"https://{AUTH_HOST}/saml/{HARBOR_HEALTH}/metadata"
    assert metadata.acs_url.endswith("/acs") and metadata.logout_url.endswith("/logout")


async def test_set_saml_idp_metadata(sdk: AsyncAuth) -> None:
    assert await sdk.set_saml_idp_metadata(HARBOR_HEALTH, IDP) is True
    org = await sdk.fetch_org(HARBOR_HEALTH)
    assert (org.is_saml_in_test_mode, org.is_saml_configured) == (True, False)


async def test_saml_go_live(sdk: AsyncAuth) -> None:
    await sdk.set_saml_idp_metadata(HARBOR_HEALTH, IDP)
    assert await sdk.saml_go_live(HARBOR_HEALTH) is True
    org = await sdk.fetch_org(HARBOR_HEALTH)
    assert (org.is_saml_in_test_mode, org.is_saml_configured) == (False, True)


async def test_delete_saml_connection(sdk: AsyncAuth) -> None:
    await sdk.set_saml_idp_metadata(HARBOR_HEALTH, IDP)
    await sdk.saml_go_live(HARBOR_HEALTH)
    assert await sdk.delete_saml_connection(HARBOR_HEALTH) is True
    org = await sdk.fetch_org(HARBOR_HEALTH)
    assert (org.is_saml_in_test_mode, org.is_saml_configured) == (False, False)
    assert await sdk.delete_saml_connection(HARBOR_HEALTH) is False


async def test_set_oidc_idp_metadata(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    request = SetGenericOidcMetadataRequest(
        org_id=NORTHWIND,
        client_id="client-123",
        client_secret="sdk-client-secret",
        uses_pkce=False,
        idp_type="Generic",
        auth_url="https://idp.example/authorize",
        token_url="https://idp.example/token",
        userinfo_url="https://idp.example/userinfo",
    )
    assert await sdk.set_oidc_idp_metadata(request) is True
    stored = sandbox.store.sso.oidc_idp(NORTHWIND)
    assert stored is not None and stored.client_id == "client-123"
    assert "sdk-client-secret" not in stored.client_secret_hash


async def test_fetch_org_scim_groups(sdk: AsyncAuth) -> None:
    page = await sdk.fetch_org_scim_groups(HARBOR_HEALTH, page_size=2)
    assert (page.total_groups, page.page_size, page.page_number) == (3, 2, 0)
    assert [group.display_name for group in page.groups] == ["All Staff", "Clinicians"]
    ibrahim = demo_user_id("ibrahim.yusuf@example.com")
    mine = await sdk.fetch_org_scim_groups(HARBOR_HEALTH, user_id=ibrahim)
    assert [group.display_name for group in mine.groups] == ["All Staff", "Compliance"]


async def test_fetch_scim_group(sdk: AsyncAuth) -> None:
    group_id, external_id, _ = DEMO_SCIM_GROUPS["Compliance"]
    group = await sdk.fetch_scim_group(HARBOR_HEALTH, group_id)
    assert (group.group_id, group.display_name, group.external_id_from_idp) == (
        group_id,
        "Compliance",
        external_id,
    )
    assert {member.user_id for member in group.members} == {
        demo_user_id("ibrahim.yusuf@example.com"),
        demo_user_id("nora.kelly@example.com"),
    }


# --- insights --------------------------------------------------------------------------------


async def test_fetch_user_top_inviter_report(sdk: AsyncAuth) -> None:
    report = await sdk.fetch_user_top_inviter_report(report_interval=TopInviterReportInterval.THIRTY_DAYS)
    assert report.total_count == 4
    assert {record.email for record in report.user_reports} >= {KNOWN_USER_EMAIL, "grace.hopper@example.com"}


async def test_fetch_user_champion_report(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    sandbox.store.update_user(ADA, {"last_active_at": sandbox.now() - 3600})
    report = await sdk.fetch_user_champion_report(report_interval=ChampionReportInterval.THIRTY_DAYS)
    ada = next(record for record in report.user_reports if record.user_id == ADA)
    assert ada.extra_properties == {"orgs_administered": 1}
    assert {org["org_id"] for org in ada.org_data or []} == {LUMEN_LABS, NORTHWIND}


async def test_fetch_user_churn_report(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    sandbox.store.update_user(GRACE, {"last_active_at": sandbox.now() - 10 * 86_400})
    report = await sdk.fetch_user_churn_report(report_interval=ChurnReportInterval.SEVEN_DAYS)
    assert GRACE in {record.user_id for record in report.user_reports}
    assert abs(report.report_time - sandbox.now()) <= 2  # the sandbox's clock runs in real time here


async def test_fetch_user_reengagement_report(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    sandbox.store.update_user(ADA, {"last_active_at": sandbox.now() - 3600})
    report = await sdk.fetch_user_reengagement_report(report_interval=ReengagementReportInterval.WEEKLY)
    assert ADA in {record.user_id for record in report.user_reports}
    assert (report.current_page, report.page_size) == (0, 10)


async def test_fetch_org_churn_report(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    members = await sdk.fetch_users_in_org(HARBOR_HEALTH, page_size=100)
    for member in members.users:  # the whole org last seen ten days ago
        sandbox.store.update_user(member.user_id, {"last_active_at": sandbox.now() - 10 * 86_400})
    report = await sdk.fetch_org_churn_report(report_interval=ChurnReportInterval.SEVEN_DAYS, page_size=5)
    harbor = next(record for record in report.org_reports if record.org_id == HARBOR_HEALTH)
    assert (harbor.name, harbor.num_users) == ("Harbor Health", 11)
    assert report.page_size == 5


async def test_fetch_org_reengagement_report(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    sandbox.store.update_user(ADA, {"last_active_at": sandbox.now() - 3600})
    report = await sdk.fetch_org_reengagement_report(report_interval=ReengagementReportInterval.MONTHLY)
    assert {record.org_id for record in report.org_reports} >= {LUMEN_LABS, NORTHWIND}


async def test_fetch_org_growth_report(sdk: AsyncAuth, http: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Propelauth-url": AUTH_HOST}
    created = await http.post(
        "https://propelauth-api.com/api/backend/v1/user/",
        json={"email": "new.hire@example.com"},
        headers=headers,
    )
    await sdk.add_user_to_org(created.json()["user_id"], NORTHWIND, "Member")
    report = await sdk.fetch_org_growth_report(report_interval=GrowthReportInterval.THIRTY_DAYS)
    northwind = next(record for record in report.org_reports if record.org_id == NORTHWIND)
    assert northwind.extra_properties == {"new_users": 1} and northwind.name == "Northwind Traders"


async def test_fetch_org_attrition_report(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    sandbox.store.update_user(GRACE, {"last_active_at": sandbox.now() - 40 * 86_400})
    report = await sdk.fetch_org_attrition_report(report_interval=AttritionReportInterval.THIRTY_DAYS)
    assert LUMEN_LABS in {record.org_id for record in report.org_reports}


async def test_fetch_chart_metric_data(sdk: AsyncAuth, sandbox: Sandbox) -> None:
    today = datetime.fromtimestamp(sandbox.now(), UTC).date()
    data = await sdk.fetch_chart_metric_data(
        ChartMetric.SIGNUPS, ChartMetricCadence.DAILY, today - timedelta(days=2), today
    )
    assert (data.chart_type, data.cadence) == ("signups", "Daily")
    assert [point.date for point in data.metrics] == [
        (today - timedelta(days=d)).isoformat() for d in (2, 1, 0)
    ]
    assert data.metrics[-1].cadence_completed is False
