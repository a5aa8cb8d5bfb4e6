"""The channel registry: the rule file's channels and those added through the API, one lookup."""

from __future__ import annotations

from alerting.rules import Channel
from storage.alert_objects import ChannelStore


class ChannelRegistry:
    """Channels by name. The rule file wins a name; API channels are read from the store on every
    call, so a channel added through any collector is used at the next delivery."""

    def __init__(self, file_channels: list[Channel], store: ChannelStore) -> None:
        self._file = {c.name: c for c in file_channels}
        self._store = store

    def all(self) -> dict[str, Channel]:
        api = {name: Channel.model_validate(body) for name, body in self._store.all().items()}
        return {**api, **self._file}

    def get(self, name: str) -> Channel | None:
        return self._file.get(name) or self.all().get(name)

    def from_file(self, name: str) -> bool:
        return name in self._file

    def stored(self, name: str) -> bool:
        """Whether `name` was added through the API (and may be changed there)."""
        return name in self._store.all()

    def put(self, channel: Channel) -> None:
        """Add or replace an API channel. The secret is kept to sign with; it is never shown back."""
        body = channel.model_dump(mode="json")
        body["secret"] = channel.secret.get_secret_value() if channel.secret is not None else None
        self._store.put(channel.name, body)

    def delete(self, name: str) -> None:
        self._store.delete(name)
