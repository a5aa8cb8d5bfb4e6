"""The collector's exceptions: each carries the HTTP status the client gets.

OtlpError(status, message, retry_after=None)
  400 undecodable body or bad encoding, 413 body too large, 415 unsupported media type or
  content encoding, 503 shedding load or the write-ahead log full (with Retry-After).
 └── ClientGone: 499, the client went away before its request was logged
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


class ClientGone(OtlpError):
    """The client closed the connection before its request was logged: nothing is stored, and the
    answer (499, nginx's "client closed request") reaches nobody."""

    def __init__(self) -> None:
        super().__init__(499, "the client closed the connection")

    def __reduce__(self):
        return (ClientGone, ())
