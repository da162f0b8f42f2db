"""Enterprise SSO: SAML allow / disallow, set-up link, SP and IdP metadata, go live, delete; OIDC
IdP metadata; SCIM groups. Each over HTTP, status and body."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from starlette.applications import Starlette

from sandbox.demo import DEMO_SCIM_GROUPS, HARBOR_HEALTH, NORTHWIND, demo_user_id
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, AUTH_URL, client_for, create_org, create_user

pytestmark = pytest.mark.anyio

UNKNOWN_ORG = "0d6a3b2c-1e4f-4a5b-8c7d-9e0f1a2b3c4d"
IDP = {
    "idp_entity_id": "http://www.okta.com/exk1",
    "idp_sso_url": "https://harbor.okta.example/app/sso/saml",
    "idp_certificate": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
    "provider": "Okta",
}
OIDC = {
    "client_id": "client-123",
    "client_secret": "very-secret-client-secret",
    "uses_pkce": True,
    "idp_type": "Generic",
    "auth_url": "https://idp.example/authorize",
    "token_url": "https://idp.example/token",
    "userinfo_url": "https://idp.example/userinfo",
}


async def saml_flags(client: httpx2.AsyncClient, org_id: str) -> tuple[bool, bool, bool]:
    org: dict[str, Any] = (await client.get(f"{API}/org/{org_id}")).json()
    return org["can_setup_saml"], org["is_saml_in_test_mode"], org["is_saml_configured"]


async def allowed_org(client: httpx2.AsyncClient) -> str:
    org_id = await create_org(client)
    assert (await client.post(f"{API}/org/{org_id}/allow_saml")).status_code == 200
    return org_id


async def test_allow_and_disallow_flip_can_setup_saml(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client)
    assert await saml_flags(client, org_id) == (False, False, False)
    response = await client.post(f"{API}/org/{org_id}/allow_saml")
    assert (response.status_code, response.json()) == (200, {})
    assert await saml_flags(client, org_id) == (True, False, False)
    assert (await client.post(f"{API}/org/{org_id}/disallow_saml")).status_code == 200
    assert await saml_flags(client, org_id) == (False, False, False)


async def test_the_saml_life_cycle_test_mode_then_live_then_deleted(client: httpx2.AsyncClient) -> None:
    org_id = await allowed_org(client)
    response = await client.post(f"{API}/saml_idp_metadata", json={"org_id": org_id, **IDP})
    assert (response.status_code, response.json()) == (200, {})
    assert await saml_flags(client, org_id) == (True, True, False)
    assert (await client.post(f"{API}/saml_idp_metadata/go_live/{org_id}")).status_code == 200
    assert await saml_flags(client, org_id) == (True, False, True)
    assert (await client.delete(f"{API}/saml_idp_metadata/{org_id}")).status_code == 200
    assert await saml_flags(client, org_id) == (True, False, False)
    response = await client.delete(f"{API}/saml_idp_metadata/{org_id}")
    assert response.status_code == 404 and "message" in response.json()


async def test_go_live_without_idp_metadata_is_a_400_naming_the_org(client: httpx2.AsyncClient) -> None:
    org_id = await allowed_org(client)
    response = await client.post(f"{API}/saml_idp_metadata/go_live/{org_id}")
    assert response.status_code == 400 and list(response.json()) == ["org_id"]


async def test_idp_metadata_needs_an_allowed_org_a_known_provider_and_every_field(
    client: httpx2.AsyncClient,
) -> None:
    org_id = await create_org(client)
    response = await client.post(f"{API}/saml_idp_metadata", json={"org_id": org_id, **IDP})
    assert response.status_code == 400 and list(response.json()) == ["org_id"]
    response = await client.post(
        f"{API}/saml_idp_metadata", json={"org_id": org_id, **IDP, "provider": "Ping"}
    )
    assert response.status_code == 400 and list(response.json()) == ["provider"]
    response = await client.post(f"{API}/saml_idp_metadata", json={"org_id": org_id})
    assert response.status_code == 400
    assert set(response.json()) == {"idp_entity_id", "idp_sso_url", "idp_certificate", "provider"}
    response = await client.post(f"{API}/saml_idp_metadata", json={"org_id": UNKNOWN_ORG, **IDP})
    assert response.status_code == 404


async def test_the_connection_link_is_a_url_with_a_single_use_token(
    client: httpx2.AsyncClient, sandbox: Sandbox, app: Starlette
) -> None:
    org_id = await allowed_org(client)
    response = await client.post(f"{API}/org/{org_id}/create_saml_connection_link", json={})
    assert response.status_code == 200 and set(response.json()) == {"url"}
    url = urlsplit(response.json()["url"])
    assert f"{url.scheme}://{url.netloc}" == AUTH_URL
    token = url.path.rsplit("/", 1)[1]
    assert len(token) >= 32
    assert token not in "\n".join(sandbox.store._conn.iterdump())  # stored as a hash only
    async with client_for(app, api_key=None) as public:  # the IT admin has no API key
        assert (await public.get(url.path)).status_code == 200
        assert (await public.get(url.path)).status_code == 404


async def test_an_expired_connection_link_no_longer_opens(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    org_id = await allowed_org(client)
    sandbox.clock = lambda: 1_000_000
    response = await client.post(
        f"{API}/org/{org_id}/create_saml_connection_link", json={"expires_in_seconds": 60}
    )
    path = urlsplit(response.json()["url"]).path
    sandbox.clock = lambda: 1_000_060
    assert (await client.get(path)).status_code == 404


async def test_the_connection_link_needs_an_allowed_org_and_a_positive_lifetime(
    client: httpx2.AsyncClient,
) -> None:
    org_id = await create_org(client)
    response = await client.post(f"{API}/org/{org_id}/create_saml_connection_link")
    assert response.status_code == 400 and list(response.json()) == ["org_id"]
    await client.post(f"{API}/org/{org_id}/allow_saml")
    response = await client.post(
        f"{API}/org/{org_id}/create_saml_connection_link", json={"expires_in_seconds": 0}
    )
    assert response.status_code == 400 and list(response.json()) == ["expires_in_seconds"]


async def test_sp_metadata_is_derived_from_the_org(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client)
    response = await client.get(f"{API}/saml_sp_metadata/{org_id}")
    assert response.status_code == 200
    assert response.json() == {
        "entity_id": f"{AUTH_URL}/saml/{org_id}/metadata",
        "acs_url": f"{AUTH_URL}/saml/{org_id}/acs",
        "logout_url": f"{AUTH_URL}/saml/{org_id}/logout",
    }


async def test_oidc_metadata_is_stored_with_the_secret_only_as_a_hash(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    org_id = await create_org(client)
    response = await client.post(f"{API}/oidc_idp_metadata", json={"org_id": org_id, **OIDC})
    assert (response.status_code, response.json()) == (200, {})
    stored = sandbox.store.sso.oidc_idp(org_id)
    assert stored is not None and (stored.idp_type, stored.client_id, stored.uses_pkce) == (
        "Generic",
        "client-123",
        True,
    )
    assert OIDC["client_secret"] not in "\n".join(sandbox.store._conn.iterdump())


async def test_oidc_metadata_needs_the_fields_of_its_idp_type(client: httpx2.AsyncClient) -> None:
    org_id = await create_org(client)
    okta = {**{k: v for k, v in OIDC.items() if not k.endswith("_url")}, "idp_type": "Okta"}
    response = await client.post(f"{API}/oidc_idp_metadata", json={"org_id": org_id, **okta})
    assert response.status_code == 400 and list(response.json()) == ["okta_sso_domain"]
    okta["okta_sso_domain"] = "harbor.okta.example"
    assert (await client.post(f"{API}/oidc_idp_metadata", json={"org_id": org_id, **okta})).status_code == 200
    response = await client.post(
        f"{API}/oidc_idp_metadata", json={"org_id": org_id, **OIDC, "idp_type": "Ping"}
    )
    assert response.status_code == 400 and list(response.json()) == ["idp_type"]
    response = await client.post(
        f"{API}/oidc_idp_metadata", json={"org_id": org_id, **OIDC, "entra_tenant_id": "t"}
    )
    assert response.status_code == 400 and list(response.json()) == ["entra_tenant_id"]
    response = await client.post(f"{API}/oidc_idp_metadata", json={"org_id": UNKNOWN_ORG, **OIDC})
    assert response.status_code == 404


async def test_scim_groups_of_the_demo_org_page_and_filter_by_user(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.get(f"{API}/scim/{HARBOR_HEALTH}/groups", params={"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"groups", "page_number", "page_size", "total_groups"}
    assert (body["page_number"], body["page_size"], body["total_groups"]) == (0, 2, 3)
    assert [group["display_name"] for group in body["groups"]] == ["All Staff", "Clinicians"]
    assert set(body["groups"][0]) == {"group_id", "display_name", "external_id_from_idp"}
    yuki = demo_user_id("yuki.tanaka@example.com")
    mine = (await seeded.get(f"{API}/scim/{HARBOR_HEALTH}/groups", params={"user_id": yuki})).json()
    assert [group["display_name"] for group in mine["groups"]] == ["All Staff", "Clinicians"]
    other = (await seeded.get(f"{API}/scim/{NORTHWIND}/groups")).json()
    assert other["total_groups"] == 0


async def test_a_scim_group_answers_its_members_paged(seeded: httpx2.AsyncClient) -> None:
    group_id, external_id, _ = DEMO_SCIM_GROUPS["All Staff"]
    url = f"{API}/scim/{HARBOR_HEALTH}/groups/{group_id}"
    response = await seeded.get(url, params={"members_page_size": 5, "members_page_number": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"group_id", "display_name", "external_id_from_idp", "members"}
    assert (body["group_id"], body["external_id_from_idp"]) == (group_id, external_id)
    assert len(body["members"]) == 1  # 11 members: pages of 5, 5, 1
    clinicians = (
        await seeded.get(f"{API}/scim/{HARBOR_HEALTH}/groups/{DEMO_SCIM_GROUPS['Clinicians'][0]}")
    ).json()
    assert {m["user_id"] for m in clinicians["members"]} == {
        demo_user_id("yuki.tanaka@example.com"),
        demo_user_id("zoe.dubois@example.com"),
    }
    response = await seeded.get(url, params={"members_page_size": 0})
    assert response.status_code == 400 and list(response.json()) == ["members_page_size"]
    response = await seeded.get(f"{API}/scim/{NORTHWIND}/groups/{group_id}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/org/{org}/allow_saml"),
        ("POST", "/org/{org}/disallow_saml"),
        ("POST", "/org/{org}/create_saml_connection_link"),
        ("GET", "/saml_sp_metadata/{org}"),
        ("POST", "/saml_idp_metadata/go_live/{org}"),
        ("DELETE", "/saml_idp_metadata/{org}"),
        ("GET", "/scim/{org}/groups"),
        ("GET", "/scim/{org}/groups/{org}"),
    ],
)
async def test_sso_endpoints_answer_404_for_an_unknown_org_and_426_with_orgs_off(
    client: httpx2.AsyncClient, sandbox: Sandbox, method: str, path: str
) -> None:
    url = API + path.format(org=UNKNOWN_ORG)
    response = await client.request(method, url)
    assert (response.status_code, response.json()) == (404, {"message": "Org not found"})
    sandbox.orgs_enabled = False
    assert (await client.request(method, url)).status_code == 426


async def test_deleting_a_user_removes_them_from_scim_groups(seeded: httpx2.AsyncClient) -> None:
    yuki = demo_user_id("yuki.tanaka@example.com")
    assert (await seeded.delete(f"{API}/user/{yuki}")).status_code == 200
    mine = (await seeded.get(f"{API}/scim/{HARBOR_HEALTH}/groups", params={"user_id": yuki})).json()
    assert mine["total_groups"] == 0


async def test_idp_metadata_changes_only_its_own_org(
    client: httpx2.AsyncClient,
) -> None:
    first, second = await allowed_org(client), await allowed_org(client)
    await create_user(client)
    await client.post(f"{API}/saml_idp_metadata", json={"org_id": first, **IDP})
    assert await saml_flags(client, second) == (True, False, False)


async def test_deleting_an_org_takes_its_saml_connection_and_links_with_it(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    org_id = await allowed_org(client)
    await client.post(f"{API}/saml_idp_metadata", json={"org_id": org_id, **IDP})
    await client.post(f"{API}/oidc_idp_metadata", json={"org_id": org_id, **OIDC})
    link = (await client.post(f"{API}/org/{org_id}/create_saml_connection_link")).json()["url"]
    assert (await client.delete(f"{API}/org/{org_id}")).status_code == 200
    assert sandbox.store.sso.saml_idp(org_id) is None and sandbox.store.sso.oidc_idp(org_id) is None
    assert (await client.get(urlsplit(link).path)).status_code == 404
