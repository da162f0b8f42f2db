"""RS256 access tokens signed with the sandbox's own key pair.

`cryptography` is imported only when a key is first needed: the MCP server imports the sandbox
in `--sandbox` mode and its start-up time is measured.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import TYPE_CHECKING, Any

from sandbox.store import Store

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

_PRIVATE_KEY_META = "rsa_private_key_pem"


class TokenSigner:
    """Loads (or generates once and persists) the key pair, and signs JWTs with it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._private_key: RSAPrivateKey | None = None

    def _key(self) -> RSAPrivateKey:
        with self._lock:
            if self._private_key is None:
                from cryptography.hazmat.primitives import serialization
                from cryptography.hazmat.primitives.asymmetric import rsa

                pem = self._store.get_meta(_PRIVATE_KEY_META)
                if pem is None:
                    generated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                    new_pem = generated.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ).decode("ascii")
                    # Another process sharing the file may have won the race: use what is stored.
                    pem = self._store.set_meta_if_absent(_PRIVATE_KEY_META, new_pem)
                loaded = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
                if not isinstance(loaded, rsa.RSAPrivateKey):
                    raise TypeError("the stored sandbox key is not an RSA key")
                self._private_key = loaded
            return self._private_key

    def public_key_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return (
            self._key()
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"alg": "RS256", "typ": "JWT"}
        signing_input = f"{_b64url_json(header)}.{_b64url_json(claims)}".encode("ascii")
        signature = self._key().sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode('ascii')}.{_b64url(signature)}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_json(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def access_token_claims(
    user: dict[str, Any],
    memberships: dict[str, dict[str, Any]],
    *,
    issuer: str,
    issued_at: int,
    duration_in_minutes: int,
    active_org_id: str | None,
) -> dict[str, Any]:
    """The claims of a PropelAuth access token minted through the backend API."""
    claims: dict[str, Any] = {
        "user_id": user["user_id"],
        "email": user["email"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "username": user["username"],
        "legacy_user_id": user["legacy_user_id"],
        "impersonator_user_id": user["impersonator_user_id"],
        "properties": user["properties"],
        "login_method": {"login_method": "generated_from_backend_api"},
        "iat": issued_at,
        "exp": issued_at + duration_in_minutes * 60,
        "iss": issuer,
    }
    if active_org_id is not None:
        claims["org_member_info"] = memberships[active_org_id]
    else:
        claims["org_id_to_org_member_info"] = memberships
    return claims
