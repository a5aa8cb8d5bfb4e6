"""The collector's exceptions: each carries the HTTP status the client gets.

OtlpError(status, message, retry_after=None)
  400 undecodable body or bad encoding, 413 body too large, 415 unsupported media type or
  content encoding, 503 storage busy or unavailable (with Retry-After).
"""

from __future__ import annotations


class OtlpError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    def __reduce__(self):
        # Raised in ingest worker processes and re-raised in the collector: keep every field.
        return (OtlpError, (self.status, self.message, self.retry_after))
