import hopscope.auto  # noqa: F401, I001 - first: telemetry before anything else is imported

import logging

import httpx
from fastapi import FastAPI, HTTPException
from opentelemetry import propagate, trace
from pydantic import BaseModel

from demo import config
from demo.faults import faults, router as control

log = logging.getLogger("checkout")
tracer = trace.get_tracer("demo.checkout")
app = FastAPI(title="demo checkout")
app.include_router(control)
client = httpx.AsyncClient(timeout=5)
PAYMENT_ATTEMPTS = 3


class Order(BaseModel):
    order_id: str
    user: str
    sku: str
    quantity: int = 1


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


async def _in_stock(order: Order) -> bool:
    try:
        response = await client.get(config.url("inventory") + f"/stock/{order.sku}")
        response.raise_for_status()
        return response.json()["available"] >= order.quantity
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        # Fallback: sell anyway and reconcile later. The user never sees this failure.
        log.warning("inventory unavailable for %s, assuming in stock: %s", order.sku, exc)
        return True


async def _charge(order: Order) -> dict:
    for attempt in range(1, PAYMENT_ATTEMPTS + 1):
        try:
            response = await client.post(
                config.url("payment") + "/payments", json={"order_id": order.order_id, "amount": 19.99 * order.quantity}
            )
        except httpx.TransportError as exc:
            log.warning("payment attempt %d for order %s failed: %r", attempt, order.order_id, exc)
            continue
        if response.status_code < 500:
            return response.json()
        log.warning("payment attempt %d for order %s failed with %s", attempt, order.order_id, response.status_code)
    raise HTTPException(502, f"payment failed after {PAYMENT_ATTEMPTS} attempts")


async def _publish(order: Order) -> None:
    """Publish the order event for shipping, with the trace context in the message headers."""
    with tracer.start_as_current_span(
        "orders publish",
        kind=trace.SpanKind.PRODUCER,
        attributes={
            "messaging.system": "hopscope-demo-queue",
            "messaging.destination.name": "orders",
            "messaging.operation.type": "send",
            "messaging.message.id": order.order_id,
        },
    ):
        headers: dict[str, str] = {}
        propagate.inject(headers)
        response = await client.post(
            config.url("queue") + "/topics/orders/messages", json={"body": order.model_dump(), "headers": headers}
        )
        response.raise_for_status()


@app.post("/orders")
async def place_order(order: Order) -> dict:
    await faults.apply_generic("checkout")
    if not await _in_stock(order):
        raise HTTPException(409, f"{order.sku} is out of stock")
    receipt = await _charge(order)
    await _publish(order)
    log.info("order %s charged, receipt %s", order.order_id, receipt.get("receipt"))
    return {"order_id": order.order_id, "status": "placed", "receipt": receipt.get("receipt")}
