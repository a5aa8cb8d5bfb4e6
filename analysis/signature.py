"""Error normalization and chain signatures: the same problem gets the same signature across
traces, runs and collectors, however its messages differ in ids, numbers and quoted values."""

from __future__ import annotations

import hashlib
import re

_PATTERNS = [
    (re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`"), "<str>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<id>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<id>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<id>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def normalize_message(message: str) -> str:
    """`order 8f3a…: timeout after 30s` -> `order <id>: timeout after <n>s`."""
    text = message.strip()
    for pattern, token in _PATTERNS:
        text = pattern.sub(token, text)
    return text[:300]


def signature(origin_service: str, origin_operation: str, normalized_error: str, services: tuple[str, ...]) -> str:
    """A stable 16-hex-digit id of a failure chain's shape."""
    text = "\x1f".join((origin_service, origin_operation, normalized_error, ">".join(services)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
