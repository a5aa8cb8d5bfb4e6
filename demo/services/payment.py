import hopscope.auto  # noqa: F401, I001 - first: telemetry before anything else is imported

import logging
from collections import OrderedDict

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from pydantic import BaseModel

from demo import config
from demo.faults import faults, router as control

log = logging.getLogger("payment")
app = FastAPI(title="demo payment")
app.include_router(control)
client = httpx.AsyncClient(timeout=5)
_seen: OrderedDict[str, None] = OrderedDict()  # orders already attempted (for payment_glitch)


class CardProcessorError(RuntimeError):
    pass


class Payment(BaseModel):
    order_id: str
    amount: float


@app.exception_handler(CardProcessorError)
async def card_processor_failed(request: Request, exc: CardProcessorError) -> JSONResponse:
    # Answer 500 on a healthy connection, and keep the exception (type, message, stack) on the
    # request's server span, as an unhandled one would be.
    span = trace.get_current_span()
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    log.error("payment for %s failed: %s", request.url.path, exc)
    return JSONResponse({"detail": str(exc)}, status_code=500)


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


def _first_attempt(order_id: str) -> bool:
    first = order_id not in _seen
    _seen[order_id] = None
    while len(_seen) > 10_000:
        _seen.popitem(last=False)
    return first


@app.post("/payments")
async def pay(payment: Payment) -> dict:
    await faults.apply_generic("payment")
    if _first_attempt(payment.order_id) and faults.on("payment_glitch"):
        raise CardProcessorError(f"card processor rejected the connection for order {payment.order_id}")
    try:
        response = await client.post(config.url("ledger") + "/entries", json=payment.model_dump())
    except httpx.HTTPError as exc:
        log.error("ledger unreachable for order %s: %r", payment.order_id, exc)
        raise HTTPException(500, "could not record the payment") from exc
    if response.status_code >= 500:
        log.error("ledger refused the entry for order %s: %s", payment.order_id, response.status_code)
        raise HTTPException(500, "could not record the payment")
    return {"receipt": response.json()["entry_id"], "order_id": payment.order_id}
