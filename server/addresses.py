"""Host names, ports and addresses, parsed rather than matched as text.

A `Host` header is `name[:port]` or `[ipv6][:port]`; a name is compared case-insensitively, an IP
literal by its value, and a port must be digits. Text prefixes prove nothing: `localhost:evil.example`
is not `localhost` with a port, and `127.0.0.1.evil` is a name, not a loopback address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

ANY_PORT = "*"
_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")  # DNS-ish labels; no trailing dot, no spaces
_PORT = re.compile(r"^[0-9]{1,5}$")


@dataclass(frozen=True)
class HostPort:
    """A parsed authority: `name` lower-cased (an IPv6 literal without brackets, compressed)."""

    name: str
    port: int | str | None  # an int, ANY_PORT (patterns only), or None when absent

    def matches(self, other: HostPort) -> bool:
        """Whether `other` (a request's Host) is allowed by this pattern."""
        if self.name != other.name:
            return False
        if self.port == ANY_PORT:
            return other.port is not None
        return self.port == other.port


def parse_host_port(text: str, *, pattern: bool = False) -> HostPort | None:
    """`name[:port]` or `[v6][:port]` (port `*` too when `pattern`), else None for anything malformed."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else None
        try:
            name = ipaddress.IPv6Address(name).compressed
        except ValueError:
            return None
    else:
        name, sep, port_text_or_empty = text.partition(":")
        port_text = port_text_or_empty if sep else None
        name = name.lower()
        if not _NAME.match(name):
            return None
    return HostPort(name, _port(port_text, pattern=pattern)) if _valid_port(port_text, pattern) else None


def _valid_port(port_text: str | None, pattern: bool) -> bool:
    if port_text is None:
        return True
    if pattern and port_text == ANY_PORT:
        return True
    return bool(_PORT.match(port_text)) and int(port_text) <= 65535


def _port(port_text: str | None, *, pattern: bool) -> int | str | None:
    if port_text is None:
        return None
    return ANY_PORT if pattern and port_text == ANY_PORT else int(port_text)


@dataclass(frozen=True)
class OriginPattern:
    scheme: str
    host: HostPort

    def matches(self, origin: str) -> bool:
        parsed = parse_origin(origin)
        return parsed is not None and parsed.scheme == self.scheme and self.host.matches(parsed.host)


def parse_origin(text: str, *, pattern: bool = False) -> OriginPattern | None:
    """`scheme://host[:port]` with nothing after it (an Origin has no path), else None."""
    scheme, sep, authority = text.strip().partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not authority or "/" in authority:
        return None
    host = parse_host_port(authority, pattern=pattern)
    return OriginPattern(scheme.lower(), host) if host is not None else None


def is_loopback(host: str) -> bool:
    """The name `localhost` or a literal loopback IP (127.0.0.0/8, ::1, brackets allowed); nothing else."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def parse_networks(entries: list[str]) -> list[str]:
    """IPs or CIDRs, normalised (`10.0.0.7/8` -> `10.0.0.0/8`); ValueError names the bad entry's position."""
    networks: list[str] = []
    for number, entry in enumerate(entries, start=1):
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValueError(f"entry {number} is not an IP address or CIDR network") from None
    return networks
