"""What every OTLP receiver (HTTP, gRPC) does with a request body once it was let in: decode and
convert it in the pipeline, log it durably, and hand back the rows' account for the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from google.protobuf.message import Message

from collector.errors import ClientGone, OtlpError
from collector.pipeline import SIGNALS, IngestPipeline
from collector.settings import Settings
from storage.errors import WalClosed, WalFull
from storage.ingest import Rows
from storage.store import Store


async def receive(
    signal_name: str,
    raw: bytes,
    encoding: str | None,
    fmt: str,
    settings: Settings,
    store: Store,
    pipeline: IngestPipeline,
    gone: Callable[[], Awaitable[bool]],
) -> Rows:
    """Returns once the rows are durable (fsynced in the write-ahead log). OtlpError otherwise:
    400/413/415 for the body, 503 (with Retry-After) when the log cannot take it, ClientGone when
    `gone()` says nobody waits for the answer any more (then nothing is logged: a retry would store
    it twice)."""
    retry = settings.retry_after_seconds
    rows = await pipeline.convert(signal_name, raw, encoding, fmt, settings.max_body_bytes)
    if await gone():
        raise ClientGone()
    try:
        durable = store.accept(rows)
    except WalFull as exc:
        raise OtlpError(503, f"collector cannot take more data now, retry later: {exc}", retry) from exc
    except WalClosed as exc:
        raise OtlpError(503, "collector is shutting down, retry later", retry) from exc
    try:
        await asyncio.wrap_future(durable)
    except (WalFull, WalClosed) as exc:
        raise OtlpError(503, f"collector could not log the data, retry later: {exc}", retry) from exc
    return rows


def response_for(signal_name: str, rows: Rows) -> Message:
    """The `Export…ServiceResponse`, with the records refused one by one as partial success."""
    signal = SIGNALS[signal_name]
    response = signal.response_cls()
    if rows.rejected:
        setattr(response.partial_success, signal.rejected_field, rows.rejected)
        response.partial_success.error_message = rows.message
    return response
