import subprocess
import sys

import pytest

from hopscope_cli.main import build_parser, main, resolve_settings


def _settings(argv, monkeypatch, env=None):
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    return resolve_settings(build_parser().parse_args(argv))


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = _settings(["collector"], monkeypatch)
    assert (settings.host, settings.port, settings.retention_days) == ("127.0.0.1", 4318, 7)
    assert settings.storage_url == "chdb://" + str(tmp_path / "data" / "clickhouse")


def test_environment_is_read(monkeypatch):
    env = {
        "HOPSCOPE_HOST": "0.0.0.0",
        "HOPSCOPE_PORT": "9999",
        "HOPSCOPE_DATA_DIR": "/srv/hs",
        "HOPSCOPE_RETENTION_DAYS": "30",
    }
    settings = _settings(["up"], monkeypatch, env)
    assert (settings.host, settings.port, settings.retention_days) == ("0.0.0.0", 9999, 30)
    assert settings.storage_url == "chdb:///srv/hs/clickhouse"


def test_flags_win_over_the_environment(monkeypatch):
    env = {"HOPSCOPE_PORT": "9999", "HOPSCOPE_CLICKHOUSE_URL": "http://env:8123/otel"}
    settings = _settings(["collector", "--port", "5000", "--clickhouse-url", "http://flag:8123/db"], monkeypatch, env)
    assert (settings.port, settings.storage_url) == (5000, "http://flag:8123/db")


def test_invalid_setting_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("HOPSCOPE_PORT", "not-a-port")
    assert main(["collector"]) == 2
    assert "invalid setting" in capsys.readouterr().err


def test_bad_flag_value_exits_with_usage():
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["collector", "--port", "abc"])
    assert exc.value.code == 2


@pytest.mark.parametrize("argv", [["--help"], ["collector", "--help"], ["up", "--help"], ["migrate", "--help"]])
def test_help_describes_every_command(argv):
    out = subprocess.run([sys.executable, "-m", "hopscope_cli", *argv], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    text = out.stdout
    if argv == ["--help"]:
        assert all(word in text for word in ("collector", "up", "migrate"))
    else:
        assert "--data-dir" in text and "--clickhouse-url" in text and "HOPSCOPE_" in text
