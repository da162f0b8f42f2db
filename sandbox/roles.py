"""The sandbox project's role structure: what each org role inherits and may do."""

from __future__ import annotations

# Ordered from most to least privileged; a role inherits every role below it, as
# PropelAuth's default single-role hierarchy does.
ROLE_HIERARCHY: tuple[str, ...] = ("Owner", "Admin", "Member")

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "Owner": (
        "propelauth::can_invite",
        "propelauth::can_change_roles",
        "propelauth::can_remove_users",
        "propelauth::can_setup_saml",
        "propelauth::can_manage_api_keys",
        "propelauth::can_delete_org",
    ),
    "Admin": (
        "propelauth::can_invite",
        "propelauth::can_change_roles",
        "propelauth::can_remove_users",
        "propelauth::can_manage_api_keys",
    ),
    "Member": (),
}


def inherited_roles_plus_current(role: str) -> list[str]:
    if role not in ROLE_HIERARCHY:
        return [role]
    return list(ROLE_HIERARCHY[ROLE_HIERARCHY.index(role) :])


def permissions_for(role: str) -> list[str]:
    return list(ROLE_PERMISSIONS.get(role, ()))
