import hopscope.auto  # noqa: F401, I001 - first: telemetry before anything else is imported

import logging
import sqlite3
import threading
from pathlib import Path

from fastapi import FastAPI
from opentelemetry.instrumentation.utils import suppress_instrumentation
from pydantic import BaseModel

from demo import config
from demo.faults import faults, router as control

log = logging.getLogger("ledger")
app = FastAPI(title="demo ledger")
app.include_router(control)
DB = str(config.data_dir() / "ledger.sqlite3")
LOCK_WAIT_SECONDS = 0.5


def _statements() -> dict[str, str]:
    text = (Path(__file__).with_suffix(".sql")).read_text()
    named = {}
    for block in text.split("-- name: ")[1:]:
        name, _, body = block.partition("\n")
        named[name.strip()] = "\n".join(ln for ln in body.splitlines() if not ln.startswith("--")).strip().rstrip(";")
    return named


SQL = _statements()


class Entry(BaseModel):
    order_id: str
    amount: float


def _connect() -> sqlite3.Connection:
    return sqlite3.connect(DB, timeout=LOCK_WAIT_SECONDS, check_same_thread=False)


with suppress_instrumentation(), _connect() as setup:  # start-up work, not part of any request
    setup.execute(SQL["create"])


class _LockHolder:
    """While ledger_timeout is on, another connection holds the write lock, so writes wait and time out."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._release = threading.Event()
        self._lock = threading.Lock()  # requests run on several threads; one holder at a time

    def sync(self) -> None:
        with self._lock:
            self._sync()

    def _sync(self) -> None:
        if faults.on("ledger_timeout") and self._thread is None:
            self._release.clear()
            ready = threading.Event()
            self._thread = threading.Thread(target=self._hold, args=(ready,), daemon=True)
            self._thread.start()
            ready.wait(10)
        elif not faults.on("ledger_timeout") and self._thread is not None:
            self._release.set()
            self._thread.join(2)
            self._thread = None

    def _hold(self, ready: threading.Event) -> None:
        with suppress_instrumentation():  # the fault's machinery is not part of any request
            conn = sqlite3.connect(DB, check_same_thread=False, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            ready.set()
            self._release.wait()
            conn.execute("ROLLBACK")
            conn.close()


_lock_holder = _LockHolder()


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/entries")
def record(entry: Entry) -> dict:
    _lock_holder.sync()
    conn = _connect()
    try:
        cursor = conn.cursor()
        if faults.on("slow_db"):
            cursor.execute(SQL["slow"])
            cursor.fetchone()
        cursor.execute(SQL["insert"], (entry.order_id, entry.amount))
        conn.commit()
        return {"entry_id": cursor.lastrowid}
    except sqlite3.OperationalError:
        log.exception("ledger write for order %s failed", entry.order_id)
        raise
    finally:
        conn.close()
