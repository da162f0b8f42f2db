"""End-user API keys: the keys the project's own users and orgs hold for its API (PropelAuth's product)."""

from __future__ import annotations

from tools.catalog.entry import CatalogEntry, StatusText
from tools.targets import API_KEY

# A 400 from validation means the key does not validate: an answer, not a malformed call.
_INVALID_KEY = {400: StatusText("invalid_key", "The key is invalid, expired or deleted.")}

API_KEYS: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="fetch_api_key",
        target=API_KEY,
        operation_id="fetchApiKey",
        title="Fetch API key",
        description="One API key: owner, expiry, metadata (never its token).",
        toolset="api_keys",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="fetch_api_keys",
        operation_id="fetchApiKeys",
        title="List API keys",
        description="Current API keys, by org, user or email, a page at a time.",
        toolset="api_keys",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="fetch_archived_api_keys",
        operation_id="fetchArchivedApiKeys",
        title="List archived API keys",
        description="Deleted or expired API keys, filtered as fetch_api_keys.",
        toolset="api_keys",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="create_api_key",
        operation_id="createApiKey",
        title="Create API key",
        description="Create a key for a user and/or org; its token is shown this once.",
        toolset="api_keys",
        destructive=False,
        idempotent=False,
        # Sensitive: the token is a credential acting for its user or org (as an access token is).
        sensitive=True,
        consequence="create an API key that acts for its user or organization",
        returned_secret="api_key_token",
    ),
    CatalogEntry(
        name="update_api_key",
        target=API_KEY,
        operation_id="updateApiKey",
        title="Update API key",
        description="Change a key's expiry or metadata.",
        toolset="api_keys",
        # Not gated: an earlier expiry shortens access but keeps the key (a later update restores it).
        destructive=False,
        idempotent=True,
        schema_extras={"minProperties": 2},
        done="Updated API key {api_key_id}.",
    ),
    CatalogEntry(
        name="delete_api_key",
        target=API_KEY,
        operation_id="deleteApiKey",
        title="Delete API key",
        description="Revoke a key at once; it moves to archived. The person may be asked.",
        toolset="api_keys",
        # Gated: whatever uses the key stops working, and a deleted key cannot be restored.
        destructive=True,
        idempotent=True,
        requires_confirmation=True,
        consequence="revoke {target}",
        done="Deleted API key {api_key_id}.",
    ),
    CatalogEntry(
        name="validate_api_key",
        operation_id="validateApiKey",
        title="Validate API key",
        description="Check a key's token; says its user, org and membership. Profiles are user-written.",
        toolset="api_keys",
        read_only=True,  # a POST only so that the token travels in a body
        destructive=False,
        idempotent=True,
        status_texts=_INVALID_KEY,
    ),
    CatalogEntry(
        name="import_api_key",
        operation_id="importApiKey",
        title="Import API key",
        description="Import a key from another system for a user and/or org.",
        toolset="api_keys",
        destructive=False,
        idempotent=False,
    ),
    CatalogEntry(
        name="validate_imported_api_key",
        operation_id="validateImportedApiKey",
        title="Validate imported key",
        description="validate_api_key for an imported key.",
        toolset="api_keys",
        read_only=True,
        destructive=False,
        idempotent=True,
        status_texts=_INVALID_KEY,
    ),
    CatalogEntry(
        name="fetch_api_key_usage",
        operation_id="fetchApiKeyUsage",
        title="API key usage",
        description="How many validations on one UTC day, by key, user or org.",
        toolset="api_keys",
        destructive=False,
        idempotent=True,
    ),
)
