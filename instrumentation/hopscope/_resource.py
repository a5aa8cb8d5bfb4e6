"""The service's Resource: service, deployment, host, process, and container / Kubernetes
attributes when they can be detected."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from opentelemetry.sdk.resources import (
    OsResourceDetector,
    ProcessResourceDetector,
    Resource,
    get_aggregated_resources,
)

from hopscope._settings import ClientSettings

_CONTAINER_ID = re.compile(r"([0-9a-f]{64})")
_K8S_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def container_id(cgroup: str | None = None, mountinfo: str | None = None) -> str | None:
    """The container id from /proc/self/cgroup (cgroup v1) or /proc/self/mountinfo (v2), if any."""
    for text, path in ((cgroup, "/proc/self/cgroup"), (mountinfo, "/proc/self/mountinfo")):
        if text is None:
            try:
                text = Path(path).read_text()
            except OSError:
                continue
        for line in text.splitlines():
            if path.endswith("mountinfo") and "/containers/" not in line and "/sandboxes/" not in line:
                continue
            match = _CONTAINER_ID.search(line)
            if match:
                return match.group(1)
    return None


def _kubernetes(env) -> dict[str, str]:
    if not env.get("KUBERNETES_SERVICE_HOST"):
        return {}
    attrs = {"k8s.pod.name": env.get("POD_NAME") or env.get("HOSTNAME") or socket.gethostname()}
    namespace = env.get("POD_NAMESPACE")
    if not namespace:
        try:
            namespace = _K8S_NAMESPACE_FILE.read_text().strip()
        except OSError:
            namespace = None
    if namespace:
        attrs["k8s.namespace.name"] = namespace
    if env.get("NODE_NAME"):
        attrs["k8s.node.name"] = env["NODE_NAME"]
    return attrs


def build_resource(settings: ClientSettings, env=None) -> Resource:
    env = os.environ if env is None else env
    attrs: dict[str, str] = {"service.name": settings.service_name, "host.name": socket.gethostname()}
    if settings.service_version:
        attrs["service.version"] = settings.service_version
    if settings.environment:
        attrs["deployment.environment"] = settings.environment
        attrs["deployment.environment.name"] = settings.environment
    cid = container_id()
    if cid:
        attrs["container.id"] = cid
    attrs.update(_kubernetes(env))
    detected = get_aggregated_resources([ProcessResourceDetector(), OsResourceDetector()], timeout=2)
    # Resource.create adds the SDK's own attributes and OTEL_RESOURCE_ATTRIBUTES; ours were already
    # resolved with the OTEL_* variables first, so they agree with it.
    return detected.merge(Resource.create(attrs))
