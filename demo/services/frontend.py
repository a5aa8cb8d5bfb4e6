import hopscope.auto  # noqa: F401, I001 - first: telemetry before anything else is imported

import logging
import uuid

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from demo import config
from demo.faults import faults, router as control

log = logging.getLogger("frontend")
app = FastAPI(title="demo frontend")
app.include_router(control)
client = httpx.AsyncClient(timeout=10)


class Cart(BaseModel):
    user: str = "guest"
    sku: str = "sku-1"
    quantity: int = 1


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/")
def home() -> dict:
    return {"shop": "hopscope demo", "try": "POST /checkout"}


@app.post("/checkout")
async def checkout(cart: Cart) -> dict:
    await faults.apply_generic("frontend")
    order_id = uuid.uuid4().hex[:12]
    try:
        response = await client.post(
            config.url("checkout") + "/orders", json={"order_id": order_id, **cart.model_dump()}
        )
    except httpx.HTTPError as exc:
        log.error("checkout of order %s failed: %r", order_id, exc)
        raise HTTPException(500, "checkout failed, please try again") from exc
    if response.status_code >= 500:
        log.error("checkout of order %s failed with %s", order_id, response.status_code)
        raise HTTPException(500, "checkout failed, please try again")
    log.info("order %s placed", order_id)
    return response.json()
