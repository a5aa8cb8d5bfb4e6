"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the compose file is
validated by docker-compose itself (`config`), then what matters is checked in its resolved form."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEMO = ["frontend", "checkout", "payment", "ledger", "inventory", "queue", "shipping", "load"]


def _targets(volumes: list) -> set[str]:
    """Mount targets, from `src:target[:mode]` strings (docker-compose 1.x) or long-form mappings."""
    return {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in volumes}


def _published(ports: list) -> set[tuple[str, str]]:
    """(host address, host port), from `ip:port:target/proto` strings or long-form mappings."""
    out = set()
    for port in ports:
        if isinstance(port, dict):
            out.add((port.get("host_ip", ""), str(port["published"])))
        else:
            host_ip, published, _ = port.rsplit(":", 2) if port.count(":") >= 2 else ("", *port.split(":"))
            out.add((host_ip, published))
    return out


@pytest.fixture(scope="module")
def compose() -> dict:
    assert shutil.which("docker-compose"), "docker-compose is missing: scripts/test installs Debian's package"
    done = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "--env-file", ".env.example", "--profile", "demo", "config"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_clickhouse_is_pinned_healthy_persistent_and_never_published(compose):
    clickhouse = compose["services"]["clickhouse"]
    image, _, tag = clickhouse["image"].partition(":")
    assert image == "clickhouse/clickhouse-server" and tag and tag != "latest"
    assert "/ping" in " ".join(clickhouse["healthcheck"]["test"])
    assert "/var/lib/clickhouse" in _targets(clickhouse["volumes"])
    assert "ports" not in clickhouse


def test_the_collector_waits_for_clickhouse_keeps_its_log_and_listens_on_localhost(compose):
    collector = compose["services"]["collector"]
    assert collector["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    assert "/var/lib/hopscope/data" in _targets(collector["volumes"])  # the write-ahead log
    assert _published(collector["ports"]) == {("127.0.0.1", "4317"), ("127.0.0.1", "4318")}
    env = collector["environment"]
    assert env["HOPSCOPE_CLICKHOUSE_URL"].startswith("http://hopscope:") and env["HOPSCOPE_INGEST_TOKENS"]
    dashboard = compose["services"]["dashboard"]
    assert _published(dashboard["ports"]) == {("127.0.0.1", "8501")}
    assert dashboard["depends_on"]["collector"]["condition"] == "service_healthy"


def test_the_demo_is_behind_a_profile_and_sends_with_a_token(compose):
    for name in DEMO:
        service = compose["services"][name]
        assert service["profiles"] == ["demo"] and "ports" not in service
        if name != "load":
            assert service["environment"]["HOPSCOPE_TOKEN"] and service["environment"]["OTEL_SERVICE_NAME"] == name


def test_the_image_is_slim_runs_as_a_user_and_keeps_no_build_tools():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = dockerfile.split("\nFROM ")
    final = stages[-1]
    assert final.startswith("python:3.11-slim") and "\nUSER hopscope" in final
    assert not any(tool in final for tool in ("apt-get", "gcc", "build-essential"))
    env_example = (ROOT / ".env.example").read_text()
    assert "HOPSCOPE_BIND=127.0.0.1" in env_example


def test_the_cluster_layout_is_valid_and_consistent():
    cluster_dir = ROOT / "deploy" / "cluster"
    done = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "--env-file", str(ROOT / ".env.example"),
                           "config"], cwd=cluster_dir, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    keepers = [n for n in services if n.startswith("keeper")]
    servers = [n for n in services if n.startswith("ch-")]
    assert len(keepers) == 3 and sorted(servers) == ["ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"]
    for name in keepers + servers:
        assert "ports" not in services[name] and services[name]["image"].rsplit(":", 1)[1] != "latest"
    collector = services["collector"]
    assert collector["environment"]["HOPSCOPE_CLICKHOUSE_CLUSTER"] == "hopscope"
    assert collector["environment"]["HOPSCOPE_MIGRATE_ON_START"] == "false"
    assert collector["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["migrate"]
    remote = (cluster_dir / "config" / "cluster.xml").read_text()
    for name in servers:
        shard, replica = name[4], name
        macros = (cluster_dir / "config" / f"macros-{name[3:]}.xml").read_text()
        assert f"<shard>{shard}</shard>" in macros and f"<replica>{replica}</replica>" in macros
        assert f"<host>{name}</host>" in remote
