"""Where webhooks may go, so that alert channels cannot be turned against the collector's network.

A channel's URL must be http(s). Its host is resolved, and every address must be public: loopback,
private, link-local (cloud metadata lives at 169.254.169.254), unique-local, multicast, unspecified
and reserved addresses are refused, and so are the metadata names, unless allow-listed
(`HOPSCOPE_WEBHOOK_ALLOW`: CIDRs and host names). A collector on loopback without tokens (laptop
mode) may also send to loopback. The check runs when a channel is created and again at every
delivery, and the delivery connects to the very address it checked (DNS may answer differently
the second time): `pin()` returns the URL to connect to and the Host / TLS name to send.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal", "metadata.azure.internal"})  # fmt: skip


class ForbiddenDestination(ValueError):
    """The URL is not one webhooks may be sent to; the message says why (no secrets in it)."""


def _why_not(address: IPAddress, allow_loopback: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    for flag, reason in (
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address (where cloud metadata services live)"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
    ):
        if flag:
            return reason
    return None


@dataclass(frozen=True)
class EgressPolicy:
    allow_networks: tuple[Network, ...] = ()
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    allow_loopback: bool = False

    @classmethod
    def parse(cls, allow: str, allow_loopback: bool) -> EgressPolicy:
        """`allow`: comma-separated CIDRs (`10.1.0.0/16`, `fd00::/8`) and host names."""
        networks, hosts = [], set()
        for item in filter(None, (part.strip() for part in allow.split(","))):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts), allow_loopback)

    def check(self, url: str) -> None:
        """At a channel's creation: ForbiddenDestination for a URL that is not http(s) or whose host
        is a metadata name or resolves to a forbidden address. A host that does not resolve now is
        let through: delivery checks again, and refuses it then if it must."""
        try:
            self.resolve(url)
        except ForbiddenDestination as exc:
            if "does not resolve" not in str(exc):
                raise

    def resolve(self, url: str) -> list[IPAddress]:
        """The addresses `url` may be sent to; ForbiddenDestination when it may not."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ForbiddenDestination("webhook URLs must be http:// or https:// with a host")
        host = parts.hostname.lower().rstrip(".")
        if host in self.allow_hosts:
            return _lookup(host, parts.port)
        if host in METADATA_NAMES:
            raise ForbiddenDestination(f"{host} is a cloud metadata name")
        addresses = _lookup(host, parts.port)
        for address in addresses:
            if any(address in network for network in self.allow_networks):
                continue
            reason = _why_not(address, self.allow_loopback)
            if reason:
                raise ForbiddenDestination(
                    f"{host} resolves to {reason}; allow it with HOPSCOPE_WEBHOOK_ALLOW if it is meant"
                )
        return addresses

    def pin(self, url: str) -> tuple[str, str, str]:
        """Check `url` now and return (the URL with the checked address in place of the host, the
        Host header to send, the name to verify the TLS certificate against)."""
        address = self.resolve(url)[0]
        parts = urlsplit(url)
        literal = f"[{address}]" if address.version == 6 else str(address)
        netloc = literal + (f":{parts.port}" if parts.port else "")
        host_header = parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else ""
        return urlunsplit(parts._replace(netloc=netloc)), host_header, parts.hostname or ""


def _lookup(host: str, port: int | None) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ForbiddenDestination(f"{host} does not resolve") from exc
    seen: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


# Headers a channel may not set: the connection's own, and the ones hopscope signs with.
RESERVED_HEADERS = frozenset({"host", "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                              "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                              "content-length", "content-type"})  # fmt: skip


def header_problem(name: str) -> str | None:
    lowered = name.strip().lower()
    if lowered in RESERVED_HEADERS or lowered.startswith("x-hopscope-"):
        return f"{name!r} cannot be set by a channel"
    return None
