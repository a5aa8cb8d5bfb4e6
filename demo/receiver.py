"""The demo's webhook receiver: where the demo's alert rules (demo/alerts.yaml) send notifications.
It prints one line per notification to the terminal of `hopscope up --demo`, keeps every body in
`<demo dir>/alerts-received.jsonl`, and answers GET / with what it received (newest first)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RULES = Path(__file__).with_name("alerts.yaml")


def summary(body: dict[str, Any]) -> str:
    """`FIRING frontend-errors (critical): origin ledger INSERT — sqlite3.OperationalError (frontend > … > ledger)`."""
    status = str(body.get("status", "?")).upper()
    line = f"{status} {body.get('rule', '?')} ({body.get('severity', '?')})"
    chains = body.get("chains") or []
    if chains:
        chain = chains[0]
        line += (
            f": origin {chain.get('origin_service')} {chain.get('origin_operation')} — {chain.get('error')} "
            f"({' > '.join(chain.get('path', []))})"
        )
    return line


class WebhookReceiver:
    """An HTTP server on 127.0.0.1:`port` in a background thread."""

    def __init__(self, port: int, data_dir: Path, echo: bool = True) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = Path(data_dir) / "alerts-received.jsonl"
        self._echo = echo
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def received(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        with self._lock:
            lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in reversed(lines) if line.strip()]

    def _keep(self, body: dict[str, Any]) -> None:
        with self._lock:
            with self.log.open("a", encoding="utf-8") as f:
                f.write(json.dumps(body, separators=(",", ":")) + "\n")
        if self._echo:
            print(f"[alert] {summary(body)}", flush=True)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server interface
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(min(length, 10 * 2**20)) or b"{}")
                except ValueError:
                    self.send_error(400, "a JSON body")
                    return
                receiver._keep(body if isinstance(body, dict) else {"body": body})
                self.send_response(204)
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                payload = json.dumps(receiver.received()[:100], indent=2).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="demo-webhook-receiver", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def rules_for(receiver_url: str) -> str:
    """The demo's rule file, its channel pointing at the receiver."""
    return RULES.read_text(encoding="utf-8").replace("{receiver}", receiver_url)
