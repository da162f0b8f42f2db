"""The tool layer: PropelAuth spec -> MCP tool definitions, exposure policy, and the one executor.

Knows no transport: the server turns definitions into MCP tools and outcomes into tool results.
"""

from tools.derive import get_definition, tool_definitions
from tools.executor import execute
from tools.model import Operation, ToolDefinition, ToolOutcome
from tools.policy import ExposurePolicy, is_confirmed
from tools.secrets import SECRET_ARGUMENTS, redact_arguments
from tools.surface import tool_annotations, tool_listing

__all__ = [
    "SECRET_ARGUMENTS",
    "ExposurePolicy",
    "Operation",
    "ToolDefinition",
    "ToolOutcome",
    "execute",
    "get_definition",
    "is_confirmed",
    "redact_arguments",
    "tool_annotations",
    "tool_definitions",
    "tool_listing",
]
