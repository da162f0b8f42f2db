"""Enterprise SSO: whether an org may use SAML, its SAML and OIDC connections, and its SCIM groups."""

from __future__ import annotations

from tools.catalog.entry import CatalogEntry, StatusText
from tools.targets import ORG, SCIM_GROUP

SSO: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="allow_org_saml",
        target=ORG,
        operation_id="allowOrgSaml",
        title="Allow org SAML",
        description="Let an organization set up SAML sign-in.",
        toolset="sso",
        destructive=False,
        idempotent=True,
        done="Organization {org_id} may now set up SAML.",
    ),
    CatalogEntry(
        name="disallow_org_saml",
        target=ORG,
        operation_id="disallowOrgSaml",
        title="Disallow org SAML",
        description="Stop an organization using SAML. The person may be asked.",
        toolset="sso",
        # Gated: members who sign in only through the org's IdP lose their way in.
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="stop SAML sign-in for {target}",
        done="Organization {org_id} may no longer use SAML.",
    ),
    CatalogEntry(
        name="create_saml_connection_link",
        target=ORG,
        operation_id="createSamlConnectionLink",
        title="Create SAML set-up link",
        description="A URL for the org's IT admin to set up SAML; give it only to them.",
        toolset="sso",
        destructive=False,
        idempotent=False,
        # Sensitive: whoever holds the link configures how the org's people sign in.
        sensitive=True,
        consequence="create a SAML set-up link for {target}",
        returned_secret="url",
    ),
    CatalogEntry(
        name="fetch_saml_sp_metadata",
        target=ORG,
        operation_id="fetchSamlSpMetadata",
        title="Fetch SAML SP metadata",
        description="The entity id, ACS and logout URLs to enter in the org's IdP.",
        toolset="sso",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="set_saml_idp_metadata",
        target=ORG,
        operation_id="setSamlIdpMetadata",
        title="Set SAML IdP metadata",
        description="Store the org's IdP entity id, SSO URL and certificate.",
        toolset="sso",
        # Not gated: it replaces the IdP settings, which on a live connection could stop sign-in, but
        # it is how a connection is set up and is undone by setting the right values again; the
        # destructive hint says it overwrites.
        destructive=True,
        idempotent=True,
        done="Stored the SAML IdP metadata of organization {org_id}.",
    ),
    CatalogEntry(
        name="saml_go_live",
        target=ORG,
        operation_id="samlGoLive",
        title="SAML go live",
        description="Take the org's SAML connection out of test mode. The person may be asked.",
        toolset="sso",
        # Gated: from now on the org's people sign in through its IdP; a wrong set-up locks them out.
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="switch {target} to SAML sign-in (out of test mode)",
        done="The SAML connection of organization {org_id} is live.",
    ),
    CatalogEntry(
        name="delete_saml_connection",
        target=ORG,
        operation_id="deleteSamlConnection",
        title="Delete SAML connection",
        description="Delete the org's SAML connection. The person may be asked.",
        toolset="sso",
        # Gated: it destroys the IdP settings, and members who sign in by SAML lose their way in.
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="delete the SAML connection of {target}",
        # The preview has read the org, so a 404 on the delete means it has no connection (any more).
        status_texts={
            404: StatusText("not_found", "Organization {org_id} has no SAML connection, or does not exist.")
        },
        done="Deleted the SAML connection of organization {org_id}.",
    ),
    CatalogEntry(
        name="set_oidc_idp_metadata",
        target=ORG,
        operation_id="setOidcIdpMetadata",
        title="Set OIDC IdP metadata",
        description="Store the org's OIDC client; Generic: the 3 URLs, Okta: the domain, Azure: the tenant.",
        toolset="sso",
        # As set_saml_idp_metadata: it replaces the settings (destructive hint), not gated.
        destructive=True,
        idempotent=True,
        done="Stored the OIDC IdP metadata of organization {org_id}.",
    ),
    CatalogEntry(
        name="fetch_scim_groups",
        target=ORG,
        operation_id="fetchScimGroups",
        title="List SCIM groups",
        description="An org's SCIM groups, a page at a time; user_id keeps that member's.",
        toolset="sso",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="fetch_scim_group",
        target=SCIM_GROUP,
        operation_id="fetchScimGroup",
        title="Fetch SCIM group",
        description="One SCIM group and a page of its member ids.",
        toolset="sso",
        destructive=False,
        idempotent=True,
    ),
)
