"""The channel registry: the rule file's channels and those added through the API, one lookup."""

from __future__ import annotations

from alerting.egress import EgressPolicy
from alerting.rules import Channel
from storage.alert_objects import ChannelStore
from storage.secret_box import SecretBox


class ChannelRegistry:
    """Channels by name. The rule file wins a name; API channels are read from the store on every
    call, so a channel added through any collector is used at the next delivery. Their secrets and
    header values are stored encrypted (`secrets`); a URL is checked against `egress` when a
    channel is added (ForbiddenDestination) and again at every delivery."""

    def __init__(
        self, file_channels: list[Channel], store: ChannelStore, secrets: SecretBox, egress: EgressPolicy
    ) -> None:
        self._file = {c.name: c for c in file_channels}
        self._store = store
        self._secrets = secrets
        self.egress = egress

    def _decrypted(self, body: dict) -> Channel:
        if body.get("secret"):
            body = {**body, "secret": self._secrets.open_value(body["secret"])}
        headers = {k: self._secrets.open_value(v) for k, v in (body.get("headers") or {}).items()}
        return Channel.model_validate({**body, "headers": headers})

    def all(self) -> dict[str, Channel]:
        api = {name: self._decrypted(body) for name, body in self._store.all().items()}
        return {**api, **self._file}

    def get(self, name: str) -> Channel | None:
        return self._file.get(name) or self.all().get(name)

    def from_file(self, name: str) -> bool:
        return name in self._file

    def stored(self, name: str) -> bool:
        """Whether `name` was added through the API (and may be changed there)."""
        return name in self._store.all()

    def put(self, channel: Channel) -> None:
        """Add or replace an API channel (ForbiddenDestination for a URL webhooks may not go to).
        The secret is kept, encrypted, to sign with; it is never shown back."""
        self.egress.check(str(channel.url))
        body = channel.model_dump(mode="json")
        body["secret"] = self._secrets.seal(channel.secret.get_secret_value()) if channel.secret is not None else None
        body["headers"] = {k: self._secrets.seal(v) for k, v in channel.headers.items()}
        self._store.put(channel.name, body)

    def delete(self, name: str) -> None:
        self._store.delete(name)
