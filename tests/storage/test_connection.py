import os
import subprocess
import sys
from pathlib import Path

import pytest

from hopscope_cli.processes import free_port
from storage.connection import connect, describe, embedded_url, validate_identifier
from storage.errors import ConfigurationError, StorageUnavailable


def test_embedded_url_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert embedded_url("data") == "chdb://" + str(tmp_path / "data" / "clickhouse")


def test_passwords_never_appear_in_descriptions():
    assert describe("http://default:s3cret@ch:8123/otel") == "http://default:***@ch:8123/otel"
    assert describe("chdb:///var/lib/hopscope") == "chdb:///var/lib/hopscope"


@pytest.mark.parametrize("name", ["otel", "otel_2", "_x"])
def test_plain_identifiers_pass(name):
    assert validate_identifier(name) == name


@pytest.mark.parametrize("name", ["", "1abc", "otel;DROP TABLE x", "a-b", "a" * 65, "ot`el"])
def test_other_identifiers_are_refused(name):
    with pytest.raises(ConfigurationError):
        validate_identifier(name)


@pytest.mark.parametrize(
    "url", ["postgres://host/db", "chdb://relative/path", "http://host:8123/bad-name", "http://host:8123/a;b"]
)
def test_bad_urls_are_configuration_errors(url):
    with pytest.raises(ConfigurationError):
        connect(url)


def test_unreachable_server_is_unavailable_and_hides_the_password():
    with pytest.raises(StorageUnavailable) as exc:
        connect(f"http://default:hunter2@127.0.0.1:{free_port()}/otel")
    assert "hunter2" not in str(exc.value)


_ALLOCATOR_PROBE = """
import sys
from storage.connection import connect
client = connect("chdb://" + sys.argv[1])
stats = client.query("SELECT * FROM system.jemalloc_stats").result_rows[0][0]
print(next(line.split()[1] for line in stats.splitlines() if line.strip().startswith("opt.dirty_decay_ms:")))
"""


@pytest.mark.parametrize(("operator_set", "expected"), [(None, "100"), ("dirty_decay_ms:2000", "2000")])
def test_the_embedded_engine_gives_freed_memory_back_soon_unless_the_operator_said_otherwise(
    tmp_path, operator_set, expected
):
    """jemalloc reads its configuration when chDB is loaded: in a fresh process, the first embedded
    connection sets it (freed pages back within ~0.1 s, not 5 s); a JE_MALLOC_CONF already set wins."""
    env = {k: v for k, v in os.environ.items() if k != "JE_MALLOC_CONF"}
    if operator_set is not None:
        env["JE_MALLOC_CONF"] = operator_set
    root = Path(__file__).resolve().parents[2]
    probe = subprocess.run(
        [sys.executable, "-c", _ALLOCATOR_PROBE, str(tmp_path / "ch")],
        env=env, cwd=root, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert probe.stdout.split() == [expected]
