"""Where the demo services find each other (set by the launcher)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

# httpx logs every request at INFO; the spans already say it.
logging.getLogger("httpx").setLevel(logging.WARNING)

SERVICES = ("frontend", "checkout", "payment", "ledger", "inventory", "queue", "shipping")


def url(service: str) -> str:
    return os.environ.get(f"DEMO_{service.upper()}_URL", "http://127.0.0.1:0")


def data_dir() -> Path:
    path = Path(os.environ.get("DEMO_DATA_DIR", "./data/demo"))
    path.mkdir(parents=True, exist_ok=True)
    return path
