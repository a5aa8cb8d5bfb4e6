"""Settings precedence and resource detection (pure functions, in-process)."""

from hopscope._resource import container_id
from hopscope._settings import DEFAULT_ENDPOINT, program_name, resolve


def test_defaults():
    settings = resolve({})
    assert settings.endpoint == DEFAULT_ENDPOINT == "http://127.0.0.1:4318"
    assert settings.headers is None and not settings.disabled
    assert settings.shutdown_timeout == 1.0


def test_otel_variables_win_over_hopscope_ones():
    env = {
        "OTEL_SERVICE_NAME": "otel-name",
        "HOPSCOPE_SERVICE_NAME": "hs-name",
        "OTEL_RESOURCE_ATTRIBUTES": "service.version=2.0,deployment.environment=prod",
        "HOPSCOPE_SERVICE_VERSION": "1.0",
        "HOPSCOPE_ENVIRONMENT": "dev",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318",
        "HOPSCOPE_ENDPOINT": "http://hs:4318",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-otel=1",
        "HOPSCOPE_API_KEY": "secret",
    }
    settings = resolve(env)
    assert (settings.service_name, settings.service_version, settings.environment) == ("otel-name", "2.0", "prod")
    # None: the exporters read OTEL_EXPORTER_OTLP_* themselves (including per-signal variants).
    assert settings.endpoint is None and settings.headers is None


def test_hopscope_variables_apply_when_otel_ones_are_absent():
    env = {
        "HOPSCOPE_SERVICE_NAME": "hs",
        "HOPSCOPE_ENDPOINT": "http://hs:4318/",
        "HOPSCOPE_API_KEY": "k1",
        "HOPSCOPE_HEADERS": "x-tenant=shop,x-b=2",
    }
    settings = resolve(env)
    assert settings.service_name == "hs" and settings.endpoint == "http://hs:4318"
    assert settings.headers == {"x-tenant": "shop", "x-b": "2", "Authorization": "Bearer k1"}


def test_explicit_arguments_win_over_everything():
    env = {"OTEL_SERVICE_NAME": "env", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"}
    settings = resolve(env, service_name="arg", endpoint="http://arg:4318", headers={"a": "b"})
    assert (settings.service_name, settings.endpoint, settings.headers) == ("arg", "http://arg:4318", {"a": "b"})


def test_service_name_in_resource_attributes_is_used():
    assert resolve({"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"}).service_name == "from-attrs"


def test_disabled_by_either_switch():
    assert resolve({"HOPSCOPE_DISABLED": "1"}).disabled
    assert resolve({"OTEL_SDK_DISABLED": "true"}).disabled
    assert not resolve({"HOPSCOPE_DISABLED": "0"}).disabled


def test_program_name():
    assert program_name("/srv/app/shop.py") == "shop"
    assert program_name("/venv/lib/python3.11/site-packages/uvicorn/__main__.py") == "uvicorn"
    assert program_name("-c") == "unknown_service:python"


def test_container_id_from_cgroup_v1_and_mountinfo_v2():
    cid = "a" * 64
    assert container_id(cgroup=f"12:memory:/docker/{cid}\n", mountinfo="") == cid
    mountinfo = f"612 600 0:60 /var/lib/docker/containers/{cid}/hostname /etc/hostname rw\n"
    assert container_id(cgroup="0::/\n", mountinfo=mountinfo) == cid
    assert container_id(cgroup="0::/user.slice\n", mountinfo="1 2 3 / / rw\n") is None
