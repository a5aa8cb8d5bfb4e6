"""The collector as a team runs it, in real processes: refusing to listen beyond loopback without
tokens, tokens on OTLP/gRPC with the SDK's own exporter, TLS for HTTP and gRPC with a certificate
made for the test, and `hopscope keys` against a running collector."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import sys

import grpc
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

from hopscope_cli.collector_process import CollectorProcess
from hopscope_cli.processes import free_port

pytestmark = pytest.mark.slow
TOKENS = {"HOPSCOPE_INGEST_TOKENS": "ingest-1", "HOPSCOPE_READ_TOKENS": "read-1", "HOPSCOPE_ADMIN_TOKENS": "admin-1"}


def _hopscope(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hopscope_cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})  # fmt: skip


def test_an_open_collector_refuses_to_listen_beyond_loopback(tmp_path):
    args = ("collector", "--host", "0.0.0.0", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"))
    refused = _hopscope(*args)
    assert refused.returncode == 2 and "HOPSCOPE_INGEST_TOKENS" in refused.stderr and "--insecure" in refused.stderr


def _export(endpoint: str, headers: dict | None = None, credentials=None) -> SpanExportResult:
    provider = TracerProvider(resource=Resource.create({"service.name": "team"}))
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=credentials is None, credentials=credentials,
                                headers=headers, timeout=10)  # fmt: skip
    results: list[SpanExportResult] = []

    class Recording(SimpleSpanProcessor):
        def on_end(self, span) -> None:
            results.append(self.span_exporter.export([span]))

    provider.add_span_processor(Recording(exporter))
    with provider.get_tracer("t").start_as_current_span("team-op"):
        pass
    provider.shutdown()
    return results[0]


def test_tokens_on_grpc_and_the_keys_command(tmp_path):
    with CollectorProcess(tmp_path / "data", env=TOKENS) as collector:
        endpoint = f"127.0.0.1:{collector.grpc_port}"
        assert _export(endpoint) == SpanExportResult.FAILURE  # UNAUTHENTICATED
        assert _export(endpoint, {"authorization": "Bearer read-1"}) == SpanExportResult.FAILURE  # PERMISSION_DENIED
        assert _export(endpoint, {"authorization": "Bearer ingest-1"}) == SpanExportResult.SUCCESS
        with grpc.insecure_channel(endpoint) as channel:
            call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                       request_serializer=lambda b: b, response_deserializer=lambda b: b)  # fmt: skip
            with pytest.raises(grpc.RpcError) as denied:
                call(b"", timeout=10)
            assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED
        api = ("--api-url", collector.url)
        created = _hopscope(
            "keys", *api, "create", "--name", "ci", "--scope", "read", env={"HOPSCOPE_TOKEN": "admin-1"}
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip().splitlines()[-1]
        assert (
            httpx.get(collector.url + "/api/v1/services", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
        listed = _hopscope("keys", *api, "list", env={"HOPSCOPE_TOKEN": "admin-1"})
        assert "ci" in listed.stdout and token not in listed.stdout
        key_id = created.stdout.split()[1]
        assert _hopscope("keys", *api, "revoke", key_id, env={"HOPSCOPE_TOKEN": "admin-1"}).returncode == 0
        assert (
            httpx.get(collector.url + "/api/v1/services", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
        assert _hopscope("keys", *api, "list", env={"HOPSCOPE_TOKEN": "read-1"}).returncode == 2  # not admin


def _certificate(directory) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )  # fmt: skip
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def test_tls_for_http_and_grpc(tmp_path):
    cert, key = _certificate(tmp_path)
    env = {**TOKENS, "HOPSCOPE_TLS_CERT": str(cert), "HOPSCOPE_TLS_KEY": str(key)}
    with CollectorProcess(tmp_path / "data", env=env, ca=cert) as collector:
        assert collector.url.startswith("https://")
        ok = httpx.get(collector.url + "/api/v1/services", headers={"Authorization": "Bearer read-1"},
                       verify=collector.verify)  # fmt: skip
        assert ok.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(collector.url + "/healthz")  # not trusted without the certificate
        with pytest.raises(httpx.HTTPError):
            httpx.get(collector.url.replace("https", "http") + "/healthz")  # no plain HTTP
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        result = _export(f"localhost:{collector.grpc_port}", {"authorization": "Bearer ingest-1"}, credentials)
        assert result == SpanExportResult.SUCCESS
