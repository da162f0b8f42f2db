"""The ASGI application: one routes table over the handler modules, written from the wire facts.

Handlers live by domain: users, magic links, access tokens, migration and employees, orgs,
memberships, invites, SSO, end-user API keys, insights. Literal paths come before `{param}`
paths, so they are never taken for an id.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from contextlib import ExitStack

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from sandbox import (
    access_tokens,
    api_keys,
    insights,
    invites,
    magic_links,
    memberships,
    migration,
    oauth,
    oauth_authorize,
    oauth_register,
    oauth_token,
    orgs,
    sso,
    users,
)
from sandbox.gate import SandboxGate
from sandbox.oauth_config import (
    DEFAULT_OAUTH_SCOPES,
    DEFAULT_TOKEN_TTL_S,
    OAUTH_BASE,
    OAuthServer,
    OAuthSettings,
)
from sandbox.state import Sandbox
from sandbox.store import Store
from sandbox.web import API

_BOTH_PUT_AND_POST = ["PUT", "POST"]  # node/python send PUT, the Rust crate POST: both are accepted


def _routes() -> list[Route]:
    return [
        # users: literal paths first
        Route(f"{API}/user/", users.create_user, methods=["POST"]),
        Route(f"{API}/user/email", users.fetch_user_by_email, methods=["GET"]),
        Route(f"{API}/user/username", users.fetch_user_by_username, methods=["GET"]),
        Route(f"{API}/user/query", users.query_users, methods=["GET"]),
        Route(f"{API}/user/user_ids", users.batch_fetch("user_ids", "user_id"), methods=["POST"]),
        Route(f"{API}/user/emails", users.batch_fetch("emails", "email_key"), methods=["POST"]),
        Route(f"{API}/user/usernames", users.batch_fetch("usernames", "username_key"), methods=["POST"]),
        Route(f"{API}/user/org/{{org_id}}", memberships.fetch_users_in_org, methods=["GET"]),
        Route(f"{API}/user/{{user_id}}", users.fetch_user_by_id, methods=["GET"]),
        Route(f"{API}/user/{{user_id}}", users.update_user, methods=["PUT"]),
        Route(f"{API}/user/{{user_id}}", users.delete_user, methods=["DELETE"]),
        Route(f"{API}/user/{{user_id}}/email", users.update_user_email, methods=["PUT"]),
        Route(f"{API}/user/{{user_id}}/password", users.update_user_password, methods=["PUT"]),
        Route(f"{API}/user/{{user_id}}/clear_password", users.clear_user_password, methods=["PUT"]),
        Route(f"{API}/user/{{user_id}}/disable", users.disable_user, methods=["POST"]),
        Route(f"{API}/user/{{user_id}}/enable", users.enable_user, methods=["POST"]),
        Route(f"{API}/user/{{user_id}}/disable_2fa", users.disable_user_2fa, methods=["POST"]),
        Route(f"{API}/user/{{user_id}}/logout_all_sessions", users.logout_all_sessions, methods=["POST"]),
        Route(f"{API}/user/{{user_id}}/mfa", users.fetch_user_mfa_methods, methods=["GET"]),
        Route(
            f"{API}/user/{{user_id}}/can_create_orgs/enable",
            users.enable_user_can_create_orgs,
            methods=_BOTH_PUT_AND_POST,
        ),
        Route(
            f"{API}/user/{{user_id}}/can_create_orgs/disable",
            users.disable_user_can_create_orgs,
            methods=_BOTH_PUT_AND_POST,
        ),
        Route(
            f"{API}/user/{{user_id}}/signup_query_parameters",
            users.fetch_user_signup_query_params,
            methods=["GET"],
        ),
        Route(f"{API}/resend_email_confirmation", users.resend_email_confirmation, methods=["POST"]),
        # magic links, access tokens, migration, employees
        Route(f"{API}/magic_link", magic_links.create_magic_link, methods=["POST"]),
        Route(f"{API}/access_token", access_tokens.create_access_token, methods=["POST"]),
        Route(f"{API}/migrate_user/", migration.migrate_user, methods=["POST"]),
        Route(f"{API}/migrate_user/password", migration.migrate_user_password, methods=["POST"]),
        Route(f"{API}/employee/{{employee_id}}", migration.fetch_employee, methods=["GET"]),
        # orgs and memberships: literal paths first
        Route(f"{API}/org/", orgs.create_org, methods=["POST"]),
        # python's SDK: GET with query parameters; node's and go's: POST with a JSON body
        Route(f"{API}/org/query", orgs.query_orgs, methods=["GET", "POST"]),
        Route(f"{API}/org/add_user", memberships.add_user_to_org, methods=["POST"]),
        Route(f"{API}/org/change_role", memberships.change_user_role_in_org, methods=["POST"]),
        Route(f"{API}/org/remove_user", memberships.remove_user_from_org, methods=["POST"]),
        Route(f"{API}/org/{{org_id}}", orgs.fetch_org, methods=["GET"]),
        Route(f"{API}/org/{{org_id}}/allow_saml", sso.allow_org_saml, methods=["POST"]),
        Route(f"{API}/org/{{org_id}}/disallow_saml", sso.disallow_org_saml, methods=["POST"]),
        Route(
            f"{API}/org/{{org_id}}/create_saml_connection_link",
            sso.create_saml_connection_link,
            methods=["POST"],
        ),
        Route(f"{API}/org/{{org_id}}", orgs.update_org, methods=["PUT"]),
        Route(f"{API}/org/{{org_id}}", orgs.delete_org, methods=["DELETE"]),
        Route(f"{API}/custom_role_mappings", orgs.fetch_custom_role_mappings, methods=["GET"]),
        # invites
        Route(f"{API}/invite_user", invites.invite_user_to_org, methods=["POST"]),
        Route(f"{API}/invite_user_by_id", invites.invite_user_to_org_by_user_id, methods=["POST"]),
        Route(f"{API}/pending_org_invites", invites.fetch_pending_invites, methods=["GET"]),
        Route(f"{API}/pending_org_invites", invites.revoke_pending_org_invite, methods=["DELETE"]),
        # SSO: SAML, OIDC, SCIM (literal paths first)
        Route(f"{API}/saml_sp_metadata/{{org_id}}", sso.fetch_saml_sp_metadata, methods=["GET"]),
        Route(f"{API}/saml_idp_metadata", sso.set_saml_idp_metadata, methods=["POST"]),
        Route(f"{API}/saml_idp_metadata/go_live/{{org_id}}", sso.saml_go_live, methods=["POST"]),
        Route(f"{API}/saml_idp_metadata/{{org_id}}", sso.delete_saml_connection, methods=["DELETE"]),
        Route(f"{API}/oidc_idp_metadata", sso.set_oidc_idp_metadata, methods=["POST"]),
        Route(f"{API}/scim/{{org_id}}/groups", sso.fetch_scim_groups, methods=["GET"]),
        Route(f"{API}/scim/{{org_id}}/groups/{{group_id}}", sso.fetch_scim_group, methods=["GET"]),
        # end-user API keys: literal paths first
        Route(f"{API}/end_user_api_keys", api_keys.fetch_current_api_keys, methods=["GET"]),
        Route(f"{API}/end_user_api_keys", api_keys.create_api_key, methods=["POST"]),
        Route(f"{API}/end_user_api_keys/archived", api_keys.fetch_archived_api_keys, methods=["GET"]),
        Route(f"{API}/end_user_api_keys/usage", api_keys.fetch_api_key_usage, methods=["GET"]),
        Route(f"{API}/end_user_api_keys/validate", api_keys.validate_api_key, methods=["POST"]),
        Route(
            f"{API}/end_user_api_keys/validate_imported", api_keys.validate_imported_api_key, methods=["POST"]
        ),
        Route(f"{API}/end_user_api_keys/import", api_keys.import_api_key, methods=["POST"]),
        Route(f"{API}/end_user_api_keys/{{api_key_id}}", api_keys.fetch_api_key, methods=["GET"]),
        Route(f"{API}/end_user_api_keys/{{api_key_id}}", api_keys.update_api_key, methods=["PATCH"]),
        Route(f"{API}/end_user_api_keys/{{api_key_id}}", api_keys.delete_api_key, methods=["DELETE"]),
        # insights: one route per report and metric
        *[
            Route(f"{API}/user_report/{name}", insights.user_report(name), methods=["GET"])
            for name in insights.USER_REPORT_INTERVALS
        ],
        *[
            Route(f"{API}/org_report/{name}", insights.org_report(name), methods=["GET"])
            for name in insights.ORG_REPORT_INTERVALS
        ],
        *[
            Route(f"{API}/chart_metrics/{name}", insights.chart_metric(name), methods=["GET"])
            for name in insights.CHART_METRICS
        ],
        # public key of access tokens; the magic link landing page (no API key)
        Route(
            "/api/v1/token_verification_metadata", access_tokens.token_verification_metadata, methods=["GET"]
        ),
        Route(magic_links.MAGIC_LINK_PATH, magic_links.redeem_magic_link, methods=["GET"]),
        Route(sso.SAML_SETUP_PATH, sso.open_saml_setup_link, methods=["GET"]),
        # the OAuth 2.1 authorization server for MCP (issuer {auth_url}/oauth/2.1; no API key)
        *[Route(path, oauth.authorization_server_metadata, methods=["GET"]) for path in oauth.METADATA_PATHS],
        Route(oauth_authorize.AUTHORIZE_PATH, oauth_authorize.authorize, methods=["GET", "POST"]),
        Route(f"{OAUTH_BASE}/register", oauth_register.register_client, methods=["POST"]),
        Route(f"{OAUTH_BASE}/token", oauth_token.token, methods=["POST"]),
        Route(f"{OAUTH_BASE}/revoke", oauth_token.revoke, methods=["POST"]),
        Route(f"{OAUTH_BASE}/introspect", oauth.introspect, methods=["POST"]),
        Route(oauth.INTROSPECTIONS_PATH, oauth.introspection_counts, methods=["GET"]),
    ]


def create_app(
    *,
    api_key: str,
    db_path: str = ":memory:",
    auth_url: str = "http://localhost:8787",
    seed: bool = False,
    oauth_introspection_credentials: tuple[str, str] | None = None,
    oauth_auto_approve: str | None = None,
    oauth_scopes: Sequence[str] = DEFAULT_OAUTH_SCOPES,
    oauth_token_ttl_s: int = DEFAULT_TOKEN_TTL_S,
) -> Starlette:
    """The sandbox as an ASGI app. The store opens here; whoever built the app closes it.

    `with contextlib.closing(app.state.sandbox): ...` around serving it (or using it in process).
    Not the ASGI lifespan: one app may be entered many times in process (a test client per case).
    With `seed=True` the demo data is loaded only into a new, empty store.
    The OAuth authorization server: introspection credentials (generated when not given; read
    them at `app.state.oauth.settings`), the email of a user to sign in at once (None: a sign-in
    page), the scopes it grants and the access token lifetime.
    """
    if not api_key:
        raise ValueError("the sandbox needs a non-empty API key")
    client_id, client_secret = oauth_introspection_credentials or (
        f"sandbox-introspection-{secrets.token_hex(4)}",
        secrets.token_urlsafe(32),
    )
    oauth_settings = OAuthSettings(
        introspection_client_id=client_id,
        introspection_client_secret=client_secret,
        scopes=tuple(dict.fromkeys(oauth_scopes)),
        auto_approve_email=oauth_auto_approve,
        token_ttl_s=oauth_token_ttl_s,
    )
    store = Store(db_path)
    with ExitStack() as on_failure:  # a failed seed does not leave the database open
        on_failure.callback(store.close)
        if seed and store.is_empty():
            from sandbox.demo import seed_demo

            seed_demo(store, now=int(time.time()))
        on_failure.pop_all()
    sandbox = Sandbox(store=store, api_key=api_key, auth_url=auth_url)
    app = Starlette(routes=_routes(), middleware=[Middleware(SandboxGate, sandbox=sandbox)])
    # Trailing slashes matter on the real service: no redirect from /user to /user/.
    app.router.redirect_slashes = False
    app.state.sandbox = sandbox
    app.state.oauth = OAuthServer(oauth_settings)
    return app
