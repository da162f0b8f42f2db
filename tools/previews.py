"""How each kind of target is said in a preview, from the answers of the preview's reads.

Each `say_*` returns what the person (or the model) is shown before a confirm-gated call runs: the
target in words (`parts`, for the catalog entry's consequence template), the same facts structured
(`facts`, for the audit and the result), or `absent` when there is nothing to act on. None means an
answer was not the target asked about: no confirmation prompt is made from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tools.render_text import count_text, full_name, name_text, when
from tools.untrusted import shown

# How many pending invites a revoke's preview reads to find the one named (PropelAuth's largest page).
INVITES_READ = 100


@dataclass(frozen=True)
class Seen:
    parts: dict[str, str]  # "target" always; a kind may add more (e.g. "current_role")
    facts: dict[str, Any]
    absent: str | None = None  # the target is not there: said instead, and nothing is done
    # Facts that change on their own (a user signing in moves last_active): shown, but a confirmation
    # is not bound to them, or a preview would go stale while the person reads it.
    volatile: frozenset[str] = frozenset()

    @property
    def binding(self) -> dict[str, Any]:
        """The facts a confirmation (token or question) is bound to: the target as it was read."""
        return {key: value for key, value in self.facts.items() if key not in self.volatile}


def _answer_for(answer: Any, key: str, expected: Any) -> Mapping[str, Any] | None:
    """`answer` if it is an object whose `key` is `expected` (the thing asked about), else None."""
    return answer if isinstance(answer, dict) and answer.get(key) == expected else None


def _user_facts(user: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "email": user.get("email"),
        "name": full_name(user),
        "enabled": user.get("enabled"),
        "mfa_enabled": user.get("mfa_enabled"),
        "last_active": when(user.get("last_active_at")),
    }


def say_user(arguments: Mapping[str, Any], answers: Sequence[Any]) -> Seen | None:
    user = _answer_for(answers[0], "user_id", arguments["user_id"])
    if user is None:
        return None
    facts = _user_facts(user)
    target = (
        f"user {shown(arguments['user_id'])} ({shown(facts['email'])}, {name_text(user)}; "
        f"{'enabled' if facts['enabled'] else 'disabled'}; 2FA {'on' if facts['mfa_enabled'] else 'off'}; "
        f"last active {facts['last_active']})"
    )
    return Seen({"target": target}, facts, volatile=frozenset({"last_active"}))


def say_org(arguments: Mapping[str, Any], answers: Sequence[Any]) -> Seen | None:
    org = _answer_for(answers[0], "org_id", arguments["org_id"])
    members, invites = answers[1], answers[2]
    if org is None or not isinstance(members, dict) or not isinstance(invites, dict):
        return None
    facts = {
        "name": org.get("name"),
        "domain": org.get("domain"),
        "members": members.get("total_users"),
        "pending_invites": invites.get("total_invites"),
    }
    domain = shown(facts["domain"]) if facts["domain"] else "none"
    target = (
        f"organization {shown(arguments['org_id'])} ({shown(facts['name'], quote=True)}; domain {domain}; "
        f"{count_text(facts['members'], 'member')}; {count_text(facts['pending_invites'], 'pending invite')})"
    )
    return Seen({"target": target}, facts)


def say_membership(arguments: Mapping[str, Any], answers: Sequence[Any]) -> Seen | None:
    user = _answer_for(answers[0], "user_id", arguments["user_id"])
    if user is None:
        return None
    org_id = arguments["org_id"]
    orgs = user.get("org_id_to_org_info")
    membership = orgs.get(org_id) if isinstance(orgs, dict) else None
    who = f"user {shown(arguments['user_id'])} ({shown(user.get('email'))}, {name_text(user)})"
    if not isinstance(membership, dict):
        facts = {"email": user.get("email"), "member": False}
        return Seen(
            {"target": who}, facts, absent=f"The {who} is not a member of organization {shown(org_id)}."
        )
    facts = {
        "email": user.get("email"),
        "name": full_name(user),
        "org_name": membership.get("org_name"),
        "role": membership.get("user_role"),
        "additional_roles": membership.get("additional_roles") or [],
    }
    org = f"organization {shown(org_id)} ({shown(facts['org_name'], quote=True)})"
    role = shown(facts["role"])
    # "target" reads alone; "user", "org" and "current_role" let a consequence put them in its order.
    parts = {"target": f"{who} in {org}, role now {role}", "user": who, "org": org, "current_role": role}
    return Seen(parts, facts)


def say_invite(arguments: Mapping[str, Any], answers: Sequence[Any]) -> Seen | None:
    page = answers[0]
    if not isinstance(page, dict) or not isinstance(page.get("invites"), list):
        return None
    email, org_id = str(arguments["invitee_email"]), arguments["org_id"]
    invite = next(
        (
            found
            for found in page["invites"]
            if isinstance(found, dict)
            and found.get("org_id") == org_id
            and str(found.get("invitee_email", "")).casefold() == email.casefold()
        ),
        None,
    )
    if invite is None:
        where = f" among the first {INVITES_READ}" if page.get("has_more_results") else ""
        absent = f"No pending invite for {shown(email)} to organization {shown(org_id)}{where}."
        return Seen({"target": f"the invite of {shown(email)}"}, {"pending": False}, absent=absent)
    facts = {
        "org_name": invite.get("org_name"),
        "role": invite.get("role_in_org"),
        "inviter_email": invite.get("inviter_email"),
        "expires": when(invite.get("expires_at")),
    }
    target = (
        f"the pending invite of {shown(email)} to organization {shown(org_id)} "
        f"({shown(facts['org_name'], quote=True)}; role {shown(facts['role'])}; "
        f"invited by {shown(facts['inviter_email'])}; expires {facts['expires']})"
    )
    return Seen({"target": target}, facts)


def _owner(key: Mapping[str, Any]) -> str:
    """Whose key it is: a user, an org, both (a user's key in an org), or nobody named."""
    owners = [
        f"{noun} {shown(key[field])}"
        for field, noun in (("user_id", "user"), ("org_id", "organization"))
        if key.get(field)
    ]
    return " in ".join(owners) or "no user or organization"


def say_api_key(arguments: Mapping[str, Any], answers: Sequence[Any]) -> Seen | None:
    key = _answer_for(answers[0], "api_key_id", arguments["api_key_id"])
    if key is None:
        return None
    facts = {
        "display_name": key.get("display_name"),
        "user_id": key.get("user_id"),
        "org_id": key.get("org_id"),
        "created": when(key.get("created_at")),
        "expires": when(key.get("expires_at_seconds")),  # no expiry: "never"
    }
    name = shown(facts["display_name"], quote=True) if facts["display_name"] else "no display name"
    target = (
        f"API key {shown(arguments['api_key_id'])} ({name}; owner {_owner(key)}; "
        f"created {facts['created']}; expires {facts['expires']})"
    )
    return Seen({"target": target}, facts)
