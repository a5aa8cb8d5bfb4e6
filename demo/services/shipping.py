import hopscope.auto  # noqa: F401, I001 - first: telemetry before anything else is imported

import asyncio
import logging
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from demo import config
from demo.faults import faults, router as control

log = logging.getLogger("shipping")
tracer = trace.get_tracer("demo.shipping")
POLL_SECONDS = 0.2


class ShipmentError(RuntimeError):
    pass


def _process(message: dict) -> None:
    """One order event, in a consumer span joined to the producer by its propagated context."""
    parent = propagate.extract(message.get("headers", {}))
    producer = trace.get_current_span(parent).get_span_context()
    order = message.get("body", {})
    with tracer.start_as_current_span(
        "orders process",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=[Link(producer)] if producer.is_valid else [],
        attributes={
            "messaging.system": "hopscope-demo-queue",
            "messaging.destination.name": "orders",
            "messaging.operation.type": "process",
            "messaging.message.id": order.get("order_id", ""),
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            if faults.on("shipping_failure"):
                raise ShipmentError(f"no carrier accepts shipments to {order.get('user', '?')}")
            log.info("order %s shipped", order.get("order_id"))
        except ShipmentError as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            log.error("shipping order %s failed: %s", order.get("order_id"), exc)


async def _consume(stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        while not stop.is_set():
            try:
                with suppress_instrumentation():  # polling is plumbing, not part of any trace
                    response = await client.post(config.url("queue") + "/topics/orders/poll")
                if response.status_code == 200:
                    _process(response.json())
                    continue
            except httpx.HTTPError as exc:
                log.debug("queue not reachable: %s", exc)
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass


@asynccontextmanager
async def lifespan(_app: FastAPI):
    stop = asyncio.Event()
    task = asyncio.create_task(_consume(stop))
    yield
    stop.set()
    await task


app = FastAPI(title="demo shipping worker", lifespan=lifespan)
app.include_router(control)


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}
