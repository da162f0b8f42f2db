"""The sandbox project's role configuration: role structures, their hierarchy and permissions.

On the real service, roles are project configuration made in the dashboard, not part of the
Backend API; this is the sandbox's own, fixed configuration.

- Every org uses the project's default structure unless it subscribes to a named custom role
  mapping (`custom_role_mapping_name`); then that mapping's roles are the only ones valid in it.
- A structure is "single role in hierarchy" (PropelAuth's default): `hierarchy` runs from most to
  least privileged, and a role inherits every role after it. Roles outside the hierarchy
  (`standalone`) inherit nothing and are meant as additional roles (e.g. "Billing Admin").
- A member holds one role (`user_role`) and any number of `additional_roles`, each of which must be
  defined by the org's structure. `inherited_user_roles_plus_current_role` is the primary role and
  the roles it inherits; `user_permissions` is the union of the permissions of those roles and of
  the additional roles (and what they inherit), in first-seen order.

Default structure: Owner > Admin > Member; standalone Billing Admin, Support Agent.
Custom mappings:
  "Clinical Roles"     Owner > Admin > Clinician > Member; standalone Compliance Auditor
  "Reseller Partners"  Owner > Admin > Member > Viewer; standalone Billing Admin
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The value PropelAuth sends as `org_role_structure` for a single-role-in-hierarchy project.
SINGLE_ROLE_IN_HIERARCHY = "single_role_in_hierarchy"

_CAN_INVITE = "propelauth::can_invite"
_CAN_CHANGE_ROLES = "propelauth::can_change_roles"
_CAN_REMOVE_USERS = "propelauth::can_remove_users"
_CAN_SETUP_SAML = "propelauth::can_setup_saml"
_CAN_MANAGE_API_KEYS = "propelauth::can_manage_api_keys"
_CAN_DELETE_ORG = "propelauth::can_delete_org"
_ADMIN_PERMISSIONS = (_CAN_INVITE, _CAN_CHANGE_ROLES, _CAN_REMOVE_USERS, _CAN_MANAGE_API_KEYS)
_OWNER_PERMISSIONS = (*_ADMIN_PERMISSIONS, _CAN_SETUP_SAML, _CAN_DELETE_ORG)
_BILLING = ("billing::view_invoices", "billing::manage_subscription")


@dataclass(frozen=True)
class RoleStructure:
    hierarchy: tuple[str, ...]
    # Every role's own permissions, hierarchy roles and standalone roles alike.
    permissions: Mapping[str, tuple[str, ...]]

    def defines(self, role: str) -> bool:
        return role in self.permissions

    def unknown(self, roles: Iterable[str]) -> list[str]:
        """The roles among `roles` that this structure does not define, in order."""
        return [role for role in roles if not self.defines(role)]

    def inherited_plus_current(self, role: str) -> list[str]:
        if role not in self.hierarchy:
            return [role]
        return list(self.hierarchy[self.hierarchy.index(role) :])

    def permissions_for(self, role: str, additional_roles: Iterable[str] = ()) -> list[str]:
        held = [*self.inherited_plus_current(role)]
        for extra in additional_roles:
            held += self.inherited_plus_current(extra)
        seen: dict[str, None] = {}
        for name in held:
            for permission in self.permissions.get(name, ()):
                seen.setdefault(permission, None)
        return list(seen)


DEFAULT_ROLES = RoleStructure(
    hierarchy=("Owner", "Admin", "Member"),
    permissions={
        "Owner": _OWNER_PERMISSIONS,
        "Admin": _ADMIN_PERMISSIONS,
        "Member": (),
        "Billing Admin": _BILLING,
        "Support Agent": ("support::view_tickets", "support::reply_to_tickets"),
    },
)

ROLE_MAPPINGS: dict[str, RoleStructure] = {
    "Clinical Roles": RoleStructure(
        hierarchy=("Owner", "Admin", "Clinician", "Member"),
        permissions={
            "Owner": _OWNER_PERMISSIONS,
            "Admin": _ADMIN_PERMISSIONS,
            "Clinician": ("records::read_patient_charts", "records::write_notes"),
            "Member": (),
            "Compliance Auditor": ("audit::read_access_logs",),
        },
    ),
    "Reseller Partners": RoleStructure(
        hierarchy=("Owner", "Admin", "Member", "Viewer"),
        permissions={
            "Owner": _OWNER_PERMISSIONS,
            "Admin": _ADMIN_PERMISSIONS,
            "Member": ("catalog::place_orders",),
            "Viewer": ("catalog::view",),
            "Billing Admin": _BILLING,
        },
    ),
}


def structure_for(custom_role_mapping_name: str | None) -> RoleStructure:
    """The role structure of an org subscribed to `custom_role_mapping_name` (None: the default)."""
    if custom_role_mapping_name is None:
        return DEFAULT_ROLES
    return ROLE_MAPPINGS.get(custom_role_mapping_name, DEFAULT_ROLES)
