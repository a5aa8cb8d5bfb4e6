"""Run the collector under uvicorn, optionally with a companion (the demo) started once it listens."""

from __future__ import annotations

import signal
import threading
import time
from typing import Protocol

import uvicorn

from alerting.rules import AlertConfig
from collector.main import create_app
from collector.settings import Settings


class Companion(Protocol):
    """Something that runs beside the collector: started after it listens, stopped after it stops."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def serve(settings: Settings, alert_config: AlertConfig | None = None, companion: Companion | None = None) -> int:
    """Serve until SIGTERM/SIGINT; returns the process exit code (0 after a graceful shutdown)."""
    app = create_app(settings, alert_config)
    tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)} if settings.tls_cert else {}
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        # One line per request drowned everything else (2,258 of 2,537 lines of a demo run were
        # OTLP exports): the access log is for debugging.
        access_log=settings.log_level.lower() == "debug",
        timeout_graceful_shutdown=30,
        **tls,  # type: ignore[arg-type]
    )
    # uvicorn drains requests and runs the app's shutdown (the write-ahead log's final insert) on SIGTERM or
    # SIGINT, then re-raises the signal to the handler that was installed before it. Installing
    # a no-op there makes a completed graceful shutdown exit 0, as supervisors expect.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server = uvicorn.Server(config)
    starter = None
    if companion is not None:

        def start_when_listening() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.1)
            if server.started and not server.should_exit:
                companion.start()

        starter = threading.Thread(target=start_when_listening, name="hopscope-companion", daemon=True)
        starter.start()
    try:
        server.run()
    finally:
        if companion is not None:
            if starter is not None:
                starter.join(120)
            companion.stop()
    return 0 if server.started else 1
