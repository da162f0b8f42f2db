"""Signing a sandbox user in for an OAuth client, and whether what they signed in for still holds."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.oauth_store import Grant
from sandbox.state import Sandbox


def user_who_may_sign_in(sandbox: Sandbox, user_id: str) -> dict[str, Any] | None:
    """The user, if they exist and are neither disabled nor locked."""
    user = sandbox.store.get_user(user_id)
    if user is None or not user["enabled"] or user["locked"]:
        return None
    return user


def sign_in(sandbox: Sandbox, user_id: str, client_id: str, scopes: tuple[str, ...], resource: str) -> Grant:
    """A new grant for the user; signing in counts as activity, as on the real login page."""
    generation = sandbox.store.session_generation(user_id)
    sandbox.store.update_user(user_id, {"last_active_at": sandbox.now()})
    return Grant(
        grant_id=str(uuid.uuid4()),
        user_id=user_id,
        client_id=client_id,
        scopes=scopes,
        resource=resource,
        session_generation=0 if generation is None else generation,
    )


def holder_of(sandbox: Sandbox, grant: Grant) -> dict[str, Any] | None:
    """The user behind a grant while it holds: not deleted, disabled, locked or logged out since."""
    user = user_who_may_sign_in(sandbox, grant.user_id)
    if user is None or sandbox.store.session_generation(grant.user_id) != grant.session_generation:
        return None
    return user
