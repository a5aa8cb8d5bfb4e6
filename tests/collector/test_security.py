"""A collector for a team: tokens with scopes on every door, laptop mode's protections, webhooks
that cannot be turned against the network, secrets at rest."""

from __future__ import annotations

import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from collector.main import create_app
from tests.conftest import StoringClient, make_settings

PB = {"Content-Type": "application/x-protobuf"}
TOKENS = {"ingest_tokens": "ingest-secret", "read_tokens": "read-secret", "admin_tokens": "admin-secret"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _spans(service: str) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    now = time.time_ns()
    rs.scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="op",
                                   start_time_unix_nano=now, end_time_unix_nano=now + 1)  # fmt: skip
    return request.SerializeToString()


@pytest.fixture
def secured(storage_url, ch, tmp_path):
    app = create_app(make_settings(storage_url, data_dir=tmp_path / "data", **TOKENS))
    with StoringClient(app, base_url="http://collector.example") as client:  # any Host: tokens guard it
        yield client


def test_every_door_wants_a_token_with_its_scope(secured, service_name):
    body = _spans(service_name)
    assert secured.post("/v1/traces", content=body, headers=PB).status_code == 401
    refused = secured.post("/v1/traces", content=body, headers={**PB, **_bearer("read-secret")})
    assert refused.status_code == 403 and refused.json()["code"] == 7  # google.rpc PERMISSION_DENIED
    assert secured.post("/v1/traces", content=body, headers={**PB, **_bearer("ingest-secret")}).status_code == 200
    assert secured.get("/api/v1/services").status_code == 401
    assert secured.get("/api/v1/services", headers=_bearer("wrong")).status_code == 401
    assert secured.get("/api/v1/services", headers=_bearer("ingest-secret")).status_code == 403
    assert secured.get("/api/v1/services", headers=_bearer("read-secret")).status_code == 200
    assert secured.get("/api/v1/services", headers=_bearer("admin-secret")).status_code == 200
    rule = {"name": "sec-rule", "type": "error_rate", "service": "x", "threshold": 0.5}
    assert secured.post("/api/v1/alert-rules", json=rule, headers=_bearer("read-secret")).status_code == 403
    assert secured.post("/api/v1/alert-rules", json=rule, headers=_bearer("admin-secret")).status_code == 201
    assert secured.delete("/api/v1/alert-rules/sec-rule", headers=_bearer("admin-secret")).status_code == 204
    assert secured.get("/healthz").status_code == 200 and secured.get("/readyz").status_code == 200


def test_api_keys_are_shown_once_stored_hashed_and_revocable(secured, ch, service_name):
    admin = _bearer("admin-secret")
    created = secured.post("/api/v1/keys", json={"name": "checkout", "scopes": ["ingest"]}, headers=admin)
    assert created.status_code == 201
    key = created.json()
    token = key["token"]
    assert secured.post("/v1/traces", content=_spans(service_name), headers={**PB, **_bearer(token)}).status_code == 200
    listed = secured.get("/api/v1/keys", headers=admin)
    assert token not in listed.text and "hash" not in listed.text
    assert {k["id"]: k["scopes"] for k in listed.json()}[key["id"]] == ["ingest"]
    stored = ch.query("SELECT Body FROM hopscope_api_keys").result_rows
    assert not any(token in row[0] for row in stored)
    assert secured.post("/api/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=admin).status_code == 400
    assert (
        secured.post("/api/v1/keys", json={"name": "x", "scopes": ["read"]}, headers=_bearer(token)).status_code == 403
    )
    assert secured.delete(f"/api/v1/keys/{key['id']}", headers=admin).status_code == 204
    assert secured.post("/v1/traces", content=_spans(service_name), headers={**PB, **_bearer(token)}).status_code == 401


def test_laptop_mode_refuses_foreign_hosts_and_cross_site_simple_requests(storage_url, ch, tmp_path):
    with StoringClient(create_app(make_settings(storage_url, data_dir=tmp_path / "data"))) as client:
        assert client.get("/api/v1/services").status_code == 200
        rebound = client.get("/api/v1/services", headers={"Host": "attacker.example"})
        assert rebound.status_code == 403 and rebound.json()["error"] == "forbidden host"
        assert client.get("/api/v1/services", headers={"Host": "localhost:4318"}).status_code == 200
        assert client.get("/api/v1/services", headers={"Host": "[::1]:4318"}).status_code == 200
        simple = client.post("/api/v1/alert-channels/any/test", headers={"Content-Type": "text/plain"})
        assert simple.status_code == 415
        assert client.post("/api/v1/alert-channels/any/test").status_code == 415  # body-less, no type
        assert "access-control-allow-origin" not in client.get("/api/v1/services").headers


PROBE_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://[fd00:ec2::254]/",
    "http://2130706433/",
    "http://localhost:8123/?query=DROP",
    "http://metadata.google.internal/computeMetadata/v1/",
    "ftp://example.com/",
]


@pytest.mark.parametrize("url", PROBE_URLS)
def test_channels_cannot_point_into_the_network(secured, url):
    body = {"name": "probe", "url": url, "format": "generic"}
    response = secured.post("/api/v1/alert-channels", json=body, headers=_bearer("admin-secret"))
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "header", ["Host", "Connection", "Transfer-Encoding", "X-Hopscope-Signature", "Content-Length"]
)
def test_channels_cannot_set_reserved_headers(secured, header):
    body = {"name": "h", "url": "https://hooks.example.net/x", "headers": {header: "x"}}
    response = secured.post("/api/v1/alert-channels", json=body, headers=_bearer("admin-secret"))
    assert response.status_code == 400 and header in response.json()["detail"]


class _Leaky(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"INTERNAL-ONLY-DATA: db_password=hunter2"
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_receivers_answer_is_never_shown_back_and_secrets_are_encrypted(storage_url, ch, tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Leaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        with StoringClient(create_app(make_settings(storage_url, data_dir=tmp_path / "data"))) as client:
            channel = {"name": "leaky", "url": url, "secret": "sign-me-please", "headers": {"X-Api-Key": "k-123"}}
            assert client.post("/api/v1/alert-channels", json=channel).status_code == 201
            entry = client.post("/api/v1/alert-channels/leaky/test", headers={"Content-Type": "application/json"})
            assert entry.status_code == 202
            deliverer = client.app.state.alerting.deliverer  # type: ignore[attr-defined]
            outbox = client.app.state.alerting.outbox  # type: ignore[attr-defined]
            deliverer.attempt(outbox.get(entry.json()["id"]))
            log = client.get("/api/v1/alerts/notifications").text
            assert "HTTP 403" in log and "INTERNAL-ONLY-DATA" not in log and "hunter2" not in log
            assert client.delete("/api/v1/alert-channels/leaky").status_code == 204
    finally:
        server.shutdown()
        server.server_close()
    stored = " ".join(row[0] for row in ch.query("SELECT Body FROM hopscope_alert_channels").result_rows)
    assert "sign-me-please" not in stored and "k-123" not in stored
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
