"""The organization domain: organizations themselves and the project's custom role mappings."""

from __future__ import annotations

from tools.catalog.entry import CatalogEntry
from tools.targets import ORG

# Said once at length in the server's instructions; here only the reminder where the data comes in.
_ORG_DATA = " Org names are user-written."

ORGS: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="fetch_org",
        target=ORG,
        operation_id="fetchOrg",
        title="Fetch organization",
        description="Get one organization by id." + _ORG_DATA,
        toolset="orgs",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="query_orgs",
        operation_id="queryOrgs",
        title="Search organizations",
        description=(
            "List organizations a page at a time, by name substring, domain or legacy org id." + _ORG_DATA
        ),
        toolset="orgs",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="create_org",
        operation_id="createOrg",
        title="Create organization",
        description="Create an organization; then add_user_to_org or invite_user_to_org.",
        toolset="orgs",
        destructive=False,
        idempotent=False,
        # The official SDKs always send both, so the service never falls back on a default of its own.
        applied_defaults={
            "enable_auto_joining_by_domain": False,
            "members_must_have_matching_domain": False,
        },
    ),
    CatalogEntry(
        name="update_org",
        target=ORG,
        operation_id="updateOrg",
        title="Update organization",
        description=(
            "Change organization settings; only the fields given change. "
            "custom_role_mapping_name subscribes it to a role mapping."
        ),
        toolset="orgs",
        # Not destructive, as update_user is not: each field given is set, nothing is removed, and
        # the previous value can be set again.
        destructive=False,
        idempotent=True,
        schema_extras={"minProperties": 2},  # org_id plus at least one field to change
        done="Updated organization {org_id}.",
    ),
    CatalogEntry(
        name="delete_org",
        target=ORG,
        operation_id="deleteOrg",
        title="Delete organization",
        description=(
            "Permanently delete an organization, its memberships and pending invites; users stay. "
            "The person may be asked."
        ),
        toolset="orgs",
        # Gated: it cannot be undone, and every member loses the organization's access at once.
        destructive=True,
        # A second identical call changes nothing more (it answers 404).
        idempotent=True,
        requires_confirmation=True,
        consequence="permanently delete {target}, with its memberships and pending invites",
        done="Deleted organization {org_id}.",
    ),
    CatalogEntry(
        name="fetch_custom_role_mappings",
        operation_id="fetchCustomRoleMappings",
        title="List role mappings",
        description="List the project's custom role mappings and how many organizations use each.",
        toolset="orgs",
        destructive=False,
        idempotent=True,
    ),
)
