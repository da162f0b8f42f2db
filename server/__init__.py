"""propelauth-mcp: the MCP server (CLI, settings, PropelAuth client, audit, transports)."""

__version__ = "0.3.0"  # kept equal to pyproject's version by a test
