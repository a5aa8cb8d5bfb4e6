"""Make a stop by SIGTERM end with a normal interpreter exit, so the bounded final flush runs.

By default SIGTERM kills a Python process on the spot: `atexit` never runs and the telemetry of
the last second (the last metric export, the last spans) is lost. Two cases are handled:

- Nothing handles SIGTERM yet (a plain service, or uvicorn before it starts serving: uvicorn
  imports the app first, then installs its handlers and, once it has drained requests, re-raises
  the signal to the handler it found): hopscope installs a handler that raises SystemExit(143),
  so `finally` blocks and `atexit` run.
- uvicorn's own handler is already installed: hopscope asks it to stop through its public
  `should_exit` flag instead of letting it re-raise the signal; a second Ctrl-C still forces
  uvicorn's immediate stop.

Handlers that the service installed itself are left alone.
"""

from __future__ import annotations

import signal
import threading


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _uvicorn_server(handler):
    server = getattr(handler, "__self__", None)
    if server is not None and type(server).__module__.startswith("uvicorn") and hasattr(server, "should_exit"):
        return server
    return None


def flush_on_stop() -> None:
    """Install the handlers described above, from the main thread only. Never raises."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        current = signal.getsignal(signal.SIGTERM)
        if current == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            server = _uvicorn_server(previous)
            if server is None:
                continue

            def stop(signum, frame, server=server, previous=previous):
                if server.should_exit and signum == signal.SIGINT:
                    previous(signum, frame)
                    return
                server.should_exit = True

            signal.signal(sig, stop)
    except (ValueError, OSError, TypeError):
        return
