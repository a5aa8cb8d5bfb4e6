"""Open a clickhouse-connect client from one URL.

`chdb:///abs/path` selects the embedded engine (chDB, in this process); `http(s)://user:pass@host:port/db`
a ClickHouse server. The same SQL runs on both.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from storage.errors import ConfigurationError, StorageUnavailable

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def validate_identifier(name: str) -> str:
    """Return `name` if it is a plain ClickHouse identifier; identifiers cannot be bound as parameters."""
    if not _IDENTIFIER.match(name):
        raise ConfigurationError(f"invalid ClickHouse identifier {name!r}: use letters, digits and _")
    return name


def embedded_url(data_dir: Path) -> str:
    """The default URL: the embedded engine under the data directory."""
    return "chdb://" + str((Path(data_dir) / "clickhouse").resolve())


def describe(url: str) -> str:
    """The URL with any password removed, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
    return parts._replace(netloc=netloc).geturl()


# The embedded engine allocates with jemalloc, which keeps the pages a query frees for 5 s
# (dirty_decay_ms) before it gives them back: under a steady stream of inserts the process held a
# few hundred MiB it was not using (peak RSS 1.55-1.73 GiB for metrics where ClickHouse's own
# accounting peaked at ~1 GiB). Given back within ~0.1 s instead (docs/benchmarks.md). jemalloc
# reads this when chDB is loaded, at the first embedded connection; a value the operator set wins.
EMBEDDED_ALLOCATOR = ("JE_MALLOC_CONF", "dirty_decay_ms:100")


# On a cluster the tables are Distributed, sharded by trace id (storage.cluster): a JOIN or IN over
# spans of the same traces can then run on each shard alone, and INSERT … SELECT (the roll-up) too.
CLUSTER_SETTINGS = {"distributed_product_mode": "local", "parallel_distributed_insert_select": 2}


def connect(url: str, cluster: bool = False) -> Client:
    """Open a new client. Each call returns its own client (its own session on the engine); with
    `cluster`, its queries run shard by shard where they can (CLUSTER_SETTINGS).

    Raises ConfigurationError for a malformed URL and StorageUnavailable when the engine or
    server cannot be opened. For a server, the database in the URL is created if it is missing.
    """
    parts = urlsplit(url)
    try:
        if parts.scheme == "chdb":
            path = unquote(parts.path)
            if parts.netloc or not path.startswith("/"):
                raise ConfigurationError(f"chdb URL must be chdb:///absolute/path, got {url!r}")
            Path(path).mkdir(parents=True, exist_ok=True)
            os.environ.setdefault(*EMBEDDED_ALLOCATOR)
            return clickhouse_connect.get_client(dsn="chdb://" + path)
        if parts.scheme in ("http", "https"):
            database = validate_identifier(parts.path.strip("/") or "default")
            client = clickhouse_connect.get_client(
                host=parts.hostname or "localhost",
                port=parts.port or (8443 if parts.scheme == "https" else 8123),
                username=unquote(parts.username or "default"),
                password=unquote(parts.password or ""),
                secure=parts.scheme == "https",
                settings=CLUSTER_SETTINGS if cluster else None,
            )
            client.command("CREATE DATABASE IF NOT EXISTS {db:Identifier}", parameters={"db": database})
            client.database = database
            return client
    except ConfigurationError:
        raise
    except Exception as exc:  # the driver raises many types; the caller needs one
        raise StorageUnavailable(f"cannot open ClickHouse at {describe(url)}: {exc}") from exc
    raise ConfigurationError(f"unsupported ClickHouse URL scheme in {describe(url)!r}: use chdb:// or http(s)://")
