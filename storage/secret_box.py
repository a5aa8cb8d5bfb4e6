"""Secrets at rest: channel secrets and header values are stored encrypted (Fernet: AES-128-CBC
with HMAC-SHA256), so whoever can read the database cannot read them.

The key comes from `HOPSCOPE_SECRET_KEY` (a Fernet key: 32 url-safe base64 bytes), or from
`<data-dir>/secret.key`, created 0600 on first use. Losing the key loses the secrets (the channels
must be entered again), nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.errors import ConfigurationError

_PREFIX = "enc:v1:"  # what an encrypted value looks like in storage


class SecretBox:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("HOPSCOPE_SECRET_KEY is not a Fernet key (32 url-safe base64 bytes)") from exc

    @classmethod
    def open(cls, key: str | None, data_dir: Path) -> SecretBox:
        """The configured key, or the data directory's key file (created 0600 when missing)."""
        if key:
            return cls(key.encode())
        path = Path(data_dir) / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, value: str) -> str:
        return _PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def open_value(self, value: str) -> str:
        """The plain value; values stored before encryption existed come back as they are."""
        if not value.startswith(_PREFIX):
            return value
        try:
            return self._fernet.decrypt(value[len(_PREFIX) :].encode("ascii")).decode()
        except InvalidToken as exc:
            raise ConfigurationError("a stored secret cannot be decrypted with this key") from exc
