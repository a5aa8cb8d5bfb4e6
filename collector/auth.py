"""Who may do what: bearer tokens with scopes, checked before a request does any work.

Scopes: `ingest` (the OTLP receivers, HTTP and gRPC), `read` (the query API, what the dashboard
uses), `admin` (alert rules, channels, silences, API keys; an admin token may also read). A token
is sent as `Authorization: Bearer <token>` — an HTTP header, or gRPC metadata — which is what
`OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>` makes every SDK send.

Tokens come from the environment (`HOPSCOPE_INGEST_TOKENS`, `HOPSCOPE_READ_TOKENS`,
`HOPSCOPE_ADMIN_TOKENS`, comma-separated; for containers) and from API keys created at run time
(stored hashed in ClickHouse, shown once, revocable; `KeyRing` reloads them every few seconds, so
a key created or revoked through any collector counts everywhere within seconds).

No token configured at all means laptop mode: everything is open, on loopback only (see
`collector.guard`). Missing or unknown token: 401 / UNAUTHENTICATED; a token without the scope:
403 / PERMISSION_DENIED. `/healthz`, `/readyz` and the API description stay open.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from core.periodic import PeriodicThread
from storage.alert_objects import ApiKeyStore

SCOPES = ("ingest", "read", "admin")
_PREFIX = "hs_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(key id, the token): the id is public and names the key; the token is shown once."""
    key_id = secrets.token_hex(4)
    return key_id, f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class Caller:
    scopes: frozenset[str]
    key_id: str | None  # None for a token from the environment

    def may(self, scope: str) -> bool:
        return scope in self.scopes or (scope == "read" and "admin" in self.scopes)


class KeyRing:
    """Environment tokens and stored API keys, by hash. Thread-safe; lookups never touch storage:
    `reload()` (at start, after a change through this collector, and every few seconds from
    `start()`'s thread) reads the stored keys, and last-use times are written in the same pass."""

    def __init__(self, env_tokens: dict[str, frozenset[str]], store: ApiKeyStore | None, refresh: float = 5.0) -> None:
        self._env = {hash_token(t): scopes for t, scopes in env_tokens.items()}
        self._store = store
        self._lock = threading.Lock()
        self._stored: dict[str, tuple[str, frozenset[str]]] = {}  # hash -> (key id, scopes)
        self._used: dict[str, float] = {}  # key id -> last use (Unix seconds), not yet saved
        self._thread = PeriodicThread("hopscope-keys", self._pass, refresh)

    @property
    def enabled(self) -> bool:
        """Whether any token exists (else: laptop mode)."""
        return bool(self._env) or bool(self._stored)

    def attach(self, store: ApiKeyStore) -> None:
        """The store of run-time API keys, once storage is open."""
        self._store = store

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self.save_last_used()

    def _pass(self) -> None:
        self.save_last_used()
        self.reload()

    def reload(self) -> None:
        if self._store is None:
            return
        stored = {}
        for key_id, body in self._store.all().items():
            if not body.get("revoked"):
                stored[body["hash"]] = (key_id, frozenset(body["scopes"]))
        with self._lock:
            self._stored = stored

    def _keys(self) -> dict[str, tuple[str, frozenset[str]]]:
        with self._lock:
            return self._stored

    def caller(self, authorization: str | None) -> Caller | None:
        """The caller a `Authorization: Bearer …` value names, or None."""
        if not authorization or not authorization[:7].lower() == "bearer ":
            return None
        digest = hash_token(authorization[7:].strip())
        for known, scopes in self._env.items():
            if hmac.compare_digest(known, digest):
                return Caller(scopes, None)
        found = self._keys().get(digest)
        if found is None:
            return None
        key_id, scopes = found
        with self._lock:
            self._used[key_id] = time.time()
        return Caller(scopes, key_id)

    def save_last_used(self) -> None:
        """Write the keys' last-use times (called now and then, not on every request)."""
        if self._store is None:
            return
        with self._lock:
            used, self._used = self._used, {}
        if not used:
            return
        bodies = self._store.all()
        for key_id, at in used.items():
            if key_id in bodies:
                self._store.put(key_id, {**bodies[key_id], "last_used": at})


def env_tokens(ingest: str, read: str, admin: str) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for scope, text in (("ingest", ingest), ("read", read), ("admin", admin)):
        for token in filter(None, (t.strip() for t in text.split(","))):
            out.setdefault(token, set()).add(scope)
    return {token: frozenset(scopes) for token, scopes in out.items()}


def required_scope(method: str, path: str) -> str | None:
    """The scope a request needs; None for what stays open."""
    if path in ("/healthz", "/readyz") or path.startswith(("/docs", "/openapi.json", "/redoc")):
        return None
    if path == "/metrics":
        return "read"  # Prometheus sends a bearer token (`authorization` in its scrape config)
    if path.startswith("/v1/"):
        return "ingest"  # (gRPC has its own door: collector.otlp_grpc)
    if path.startswith("/api/v1/keys") or method not in ("GET", "HEAD"):
        return "admin"  # keys, and everything that changes state (rules, channels, silences, redelivery)
    return "read"
