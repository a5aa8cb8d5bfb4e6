import hopscope.auto  # noqa: F401, I001 - first: telemetry before anything else is imported

import logging
import random

from fastapi import FastAPI, HTTPException

from demo.faults import faults, router as control

log = logging.getLogger("inventory")
app = FastAPI(title="demo inventory")
app.include_router(control)


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/stock/{sku}")
async def stock(sku: str) -> dict:
    await faults.apply_generic("inventory")
    if faults.on("inventory_down"):
        log.error("stock service unavailable for %s", sku)
        raise HTTPException(503, "inventory backend unavailable")
    return {"sku": sku, "available": random.randint(5, 50)}
