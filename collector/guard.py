"""The collector's doors, checked before a request does any work.

With tokens (see `collector.auth`): every request but the probes and the API description carries a
bearer token with the scope it needs (401 without a known token, 403 without the scope).

Without tokens (laptop mode, loopback only), what keeps a web page the on-call engineer visits from
using a collector that listens on their machine:

- DNS rebinding: a page on `attacker.example` can make its own name resolve to 127.0.0.1 and then
  talk to the collector as a same-origin site. Its requests still carry `Host: attacker.example`:
  requests whose Host is not a loopback name or address (or the address the collector was told to
  listen on) are refused with 403.
- Cross-site "simple" requests: a page may POST a form or a body-less request to any address
  without asking first (no CORS preflight). A request that changes state must say
  `Content-Type: application/json` (or an OTLP type), which only a preflighted, allowed request
  can: others are refused with 415. The collector sends no CORS headers, so no preflight passes.

A pure ASGI middleware: it reads nothing but the request line and headers.
"""

from __future__ import annotations

import ipaddress
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from collector import otlp_codec
from collector.auth import KeyRing, required_scope
from collector.errors import OtlpError

_ALLOWED_TYPES = frozenset({"application/json", "application/x-protobuf"})


def is_loopback_host(host: str) -> bool:
    """`localhost`, `*.localhost`, 127.0.0.0/8 or ::1 (a Host header's name, without the port)."""
    name = host.strip().lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    value = value.strip()
    if value.startswith("["):  # [::1]:4318
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Doors:
    """Tokens when there are any, else the laptop-mode checks (see the module docstring).
    `also_allowed` names the address the collector listens on, when it is not a loopback one."""

    def __init__(self, app: ASGIApp, keys: KeyRing, also_allowed: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.keys = keys
        self.also_allowed = frozenset(h.lower() for h in also_allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.keys.enabled:
            needed = required_scope(scope["method"], scope["path"])
            if needed is not None:
                caller = self.keys.caller(headers.get(b"authorization", b"").decode("latin-1"))
                if caller is None or not caller.may(needed):
                    status = 401 if caller is None else 403
                    text = (
                        "a valid bearer token is needed" if caller is None else f"this token lacks the {needed} scope"
                    )
                    await _refuse(send, status, "unauthorized" if status == 401 else "forbidden", text, scope["path"])
                    return
            await self.app(scope, receive, send)
            return
        host = _host_name(headers.get(b"host", b"").decode("latin-1"))
        if not is_loopback_host(host) and host.lower() not in self.also_allowed:
            await _refuse(
                send, 403, "forbidden host", f"Host {host!r} is not this collector: use localhost or 127.0.0.1"
            )
            return
        # The OTLP receivers answer other media types 415 themselves, in OTLP's own error format.
        # Of the methods that change state, only POST is "simple" (sent cross-site without a preflight).
        if scope["method"] == "POST" and not scope["path"].startswith("/v1/"):
            media = headers.get(b"content-type", b"").decode("latin-1").split(";", 1)[0].strip().lower()
            if media not in _ALLOWED_TYPES:
                detail = "a request that changes something must be sent with Content-Type: application/json"
                await _refuse(send, 415, "unsupported media type", detail)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, error: str, detail: str, path: str = "") -> None:
    if path.startswith("/v1/"):  # an OTLP client gets OTLP's error body
        body = otlp_codec.status_body(OtlpError(status, detail), otlp_codec.JSON)
    else:
        body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
