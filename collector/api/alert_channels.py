"""/api/v1/alert-channels: notification channels (secrets are never shown) and test notifications.

Channels from the rule file are listed with `"source": "file"` and are read-only here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Body, Response

from alerting.channels import ChannelRegistry
from alerting.egress import ForbiddenDestination
from alerting.rules import Channel
from collector.api.bodies import validated
from collector.api.errors import ApiError
from collector.dependencies import AlertingDep, RunningAlertingDep

router = APIRouter(prefix="/api/v1/alert-channels", tags=["alerting"])


def _public(channel: Channel, source: str) -> dict:
    return {
        "name": channel.name,
        "url": str(channel.url),
        "format": channel.format,
        "match": channel.match,
        "signed": channel.secret is not None,
        "headers": sorted(channel.headers),
        "source": source,
    }


def _put(channels: ChannelRegistry, channel: Channel) -> None:
    try:
        channels.put(channel)
    except ForbiddenDestination as exc:
        raise ApiError(400, "invalid channel", f"url: {exc}") from None


def _changeable(channels: ChannelRegistry, name: str, verb: str) -> None:
    if channels.from_file(name):
        raise ApiError(409, "channel from file", f"{name!r} is defined in the rule file; {verb} it there")
    if not channels.stored(name):
        raise ApiError(404, "channel not found", f"no channel named {name!r}")


@router.get("", summary="Notification channels (secrets are never shown)")
def list_channels(alerting: RunningAlertingDep) -> list[dict]:
    channels = alerting.channels
    return [_public(c, "file" if channels.from_file(c.name) else "api") for c in channels.all().values()]


@router.post("", status_code=201, summary="Add a notification channel")
def create_channel(alerting: RunningAlertingDep, body: Any = Body(...)) -> dict:
    channel = validated(Channel, body)
    if channel.name in alerting.channels.all():
        raise ApiError(409, "channel exists", f"a channel named {channel.name!r} exists; PUT to change it")
    _put(alerting.channels, channel)
    return _public(channel, "api")


@router.put("/{name}", summary="Replace a channel added through the API")
def update_channel(name: str, alerting: AlertingDep, body: Any = Body(...)) -> dict:
    _changeable(alerting.channels, name, "change")
    channel = validated(Channel, body)
    if channel.name != name:
        raise ApiError(400, "invalid channel", f"the body names {channel.name!r}, the path {name!r}")
    _put(alerting.channels, channel)
    return _public(channel, "api")


@router.delete("/{name}", status_code=204, summary="Remove a channel added through the API")
def delete_channel(name: str, alerting: AlertingDep) -> Response:
    _changeable(alerting.channels, name, "remove")
    alerting.channels.delete(name)
    return Response(status_code=204)


@router.post("/{name}/test", status_code=202, summary="Send a test notification to a channel")
def test_channel(name: str, alerting: RunningAlertingDep) -> dict:
    channel = alerting.channels.get(name)
    if channel is None:
        raise ApiError(404, "channel not found", f"no channel named {name!r}")
    return asdict(alerting.evaluator.test_notification(channel))
