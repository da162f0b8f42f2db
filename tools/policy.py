"""Which tools are exposed (a filter pipeline, as in github-mcp-server) and whether a call is confirmed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.catalog import TOOLSETS
from tools.derive import CONFIRM_ARGUMENT
from tools.model import ToolDefinition


@dataclass(frozen=True)
class ExposurePolicy:
    """Exposure filters. Precedence: `tools` (an allow list) replaces `toolsets`; `exclude_tools`
    then removes; `read_only` removes every tool that is not read-only, whatever else says."""

    read_only: bool = False
    toolsets: frozenset[str] | set[str] | None = None  # None: all toolsets
    tools: frozenset[str] | set[str] | None = None  # None: no explicit allow list
    exclude_tools: frozenset[str] | set[str] | None = None

    def check_names(self, definitions: Iterable[ToolDefinition]) -> None:
        """Raise ValueError naming the unknown toolsets/tools and listing the valid ones."""
        tool_names = sorted(definition.name for definition in definitions)
        problems = []
        unknown_sets = sorted(set(self.toolsets or ()) - set(TOOLSETS))
        if unknown_sets:
            problems.append(f"unknown toolset(s) {', '.join(unknown_sets)}; valid: {', '.join(TOOLSETS)}")
        unknown_tools = sorted((set(self.tools or ()) | set(self.exclude_tools or ())) - set(tool_names))
        if unknown_tools:
            problems.append(f"unknown tool(s) {', '.join(unknown_tools)}; valid: {', '.join(tool_names)}")
        if problems:
            raise ValueError("; ".join(problems))

    def exposed(self, definitions: Iterable[ToolDefinition]) -> list[ToolDefinition]:
        definitions = list(definitions)
        self.check_names(definitions)
        if self.tools is not None:
            chosen = [d for d in definitions if d.name in self.tools]
        elif self.toolsets is not None:
            chosen = [d for d in definitions if d.toolset in self.toolsets]
        else:
            chosen = definitions
        excluded = self.exclude_tools or frozenset()
        chosen = [d for d in chosen if d.name not in excluded]
        if self.read_only:
            chosen = [d for d in chosen if d.read_only]
        return chosen


def is_confirmed(arguments: Mapping[str, Any]) -> bool:
    """Only a literal `confirm: true` confirms; missing, false or anything else does not."""
    return arguments.get(CONFIRM_ARGUMENT) is True
