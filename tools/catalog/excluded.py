"""Backend API operations that are deliberately not tools: operationId -> (method and path, why not).

The spec-completeness check (tools/derive.py) knows these as excluded, not missing: should one appear
in the spec it needs no catalog entry, and a catalog entry for one is refused. The README lists them.
"""

from __future__ import annotations

_STEP_UP = (
    "step-up MFA checks a signed-in user's own codes inside the customer's app; no administrator's task "
    "for an agent, and the codes are the user's secrets"
)
_SOCIAL = "hands out a user's third-party OAuth tokens (Google, GitHub, ...): credentials, not administration"

EXCLUDED: dict[str, tuple[str, str]] = {
    "sendStepUpSmsCode": ("POST /api/backend/v1/mfa/step-up/phone/send", _STEP_UP),
    "verifyStepUpSmsChallenge": ("POST /api/backend/v1/mfa/step-up/phone/verify", _STEP_UP),
    "verifyStepUpTotpChallenge": ("POST /api/backend/v1/mfa/step-up/verify-totp", _STEP_UP),
    "verifyStepUpGrant": ("POST /api/backend/v1/mfa/step-up/verify-grant", _STEP_UP),
    "fetchUserOauthTokens": ("GET /api/backend/v1/user/{userId}/oauth_token", _SOCIAL),
    "fetchFreshProviderToken": ("GET /api/backend/v1/user/{userId}/{provider}/fresh_token", _SOCIAL),
    "fetchTokenVerificationMetadata": (
        "GET /api/v1/token_verification_metadata",
        "infrastructure: the public key an app verifies access tokens with, fetched by the SDKs themselves",
    ),
}
