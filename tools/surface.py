"""What a client lists for each tool, as plain data in MCP's camelCase (the server builds `Tool`s from it)."""

from __future__ import annotations

from typing import Any

from tools.model import ToolDefinition


def tool_annotations(definition: ToolDefinition) -> dict[str, Any]:
    """All four hints, always explicit (MCP's defaults assume the worst). The title is on the Tool itself."""
    return {
        "readOnlyHint": definition.read_only,
        "destructiveHint": definition.destructive,
        "idempotentHint": definition.idempotent,
        "openWorldHint": definition.open_world,
    }


def tool_listing(definition: ToolDefinition) -> dict[str, Any]:
    """One entry of a tools/list result."""
    return {
        "name": definition.name,
        "title": definition.title,
        "description": definition.description,
        "inputSchema": definition.input_schema,
        "outputSchema": definition.output_schema,
        "annotations": tool_annotations(definition),
    }
