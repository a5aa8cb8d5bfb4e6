"""The storage layer's exceptions.

StorageError
 ├── ConfigurationError   bad ClickHouse URL or database name (fix the setting, do not retry)
 ├── StorageUnavailable   ClickHouse could not be reached or refused a write (retry later)
 ├── QueueFull            the writer's bounded queue has no room (retry later; nothing was queued)
 ├── WriterClosed         the writer is shutting down (nothing was queued)
 └── RejectedData         a request holds values the tables cannot store (do not retry it)
"""


class StorageError(Exception):
    """Base class of every error raised by `storage`."""


class ConfigurationError(StorageError):
    """The storage settings are invalid."""


class StorageUnavailable(StorageError):
    """ClickHouse did not accept a read or a write; the caller may retry."""


class QueueFull(StorageError):
    """The writer queue is at capacity; the submitted rows were not queued."""


class WriterClosed(StorageError):
    """The writer no longer accepts rows because it is shutting down."""


class RejectedData(StorageError):
    """The data itself cannot be stored: retrying the same request cannot help."""
