"""Secure by default: who may reach the collector, and who may read its files.

Without any token the collector is open to whoever reaches it, so it listens on loopback only:
asked to listen anywhere else without tokens it refuses to start (ExposureRefused, with how to
create tokens), unless `--insecure` says the risk is accepted — then it says so at every start.
The data directory (the store, the write-ahead log, the secret key) is private: created 0700,
tightened to 0700 if it was not, and the process creates files readable by its user only.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from collector.guard import is_loopback_host
from collector.settings import Settings

log = logging.getLogger("hopscope.collector")


class ExposureRefused(RuntimeError):
    """The settings would expose an open collector beyond this machine."""


def check_exposure(settings: Settings) -> None:
    if settings.has_tokens or is_loopback_host(settings.host):
        return
    if settings.insecure:
        log.warning(
            "INSECURE: listening on %s without any token — anyone who reaches it can send, read and "
            "change everything. Set HOPSCOPE_INGEST_TOKENS / HOPSCOPE_READ_TOKENS / HOPSCOPE_ADMIN_TOKENS.",
            settings.host,
        )
        return
    raise ExposureRefused(
        f"refusing to listen on {settings.host} without tokens: anyone who reaches it could send, read and "
        "change everything. Set HOPSCOPE_INGEST_TOKENS, HOPSCOPE_READ_TOKENS and HOPSCOPE_ADMIN_TOKENS "
        "(comma-separated; create more at run time with `hopscope keys create`), or listen on 127.0.0.1, "
        "or pass --insecure to accept the risk."
    )


def private_data_dir(data_dir: Path) -> None:
    os.umask(0o077)
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
