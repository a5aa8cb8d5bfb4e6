"""The storage layer's exceptions.

StorageError
 ├── ConfigurationError   bad ClickHouse URL or database name (fix the setting, do not retry)
 ├── StorageUnavailable   ClickHouse could not be reached or refused a write (retry later)
 ├── WalFull              the write-ahead log is at its disk budget (retry later; nothing was written)
 ├── WalClosed            the write-ahead log is shutting down (nothing was written)
 ├── RejectedData         a request holds values the tables cannot store (do not retry it)
 └── SchemaTooNew         the store's schema is newer than this hopscope knows (upgrade hopscope)
"""


class StorageError(Exception):
    """Base class of every error raised by `storage`."""


class ConfigurationError(StorageError):
    """The storage settings are invalid."""


class StorageUnavailable(StorageError):
    """ClickHouse did not accept a read or a write; the caller may retry."""


class WalFull(StorageError):
    """The write-ahead log holds its budget (or the disk is nearly full); nothing was written."""


class WalClosed(StorageError):
    """The write-ahead log no longer accepts records because it is shutting down."""


class RejectedData(StorageError):
    """The data itself cannot be stored: retrying the same request cannot help."""


class SchemaTooNew(StorageError):
    """A newer hopscope migrated the store: this one must not write to it."""
