"""The client's tests. `hopscope.configure` sets process-wide providers once, so every test that
configures runs its scenario in a fresh Python process (`run_python`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from otlp_sink import OtlpSink

_CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "HOPSCOPE_"))}


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[dict, float]:
    """Run `code` in a new interpreter; it prints one JSON line last. Returns (that JSON, seconds)."""
    import time

    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**_CLEAN_ENV, **(env or {})},
        timeout=timeout,
    )
    took = time.monotonic() - started
    if out.returncode != 0:
        raise AssertionError(f"exit {out.returncode}\nstdout: {out.stdout[-3000:]}\nstderr: {out.stderr[-3000:]}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), took


@pytest.fixture
def sink():
    with OtlpSink() as server:
        yield server
