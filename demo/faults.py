"""Fault injection shared by the demo services.

Named faults (on/off), plus a generic error rate and added latency per service. They start from
`DEMO_FAULTS` (comma-separated names), `DEMO_ERROR_RATE` and `DEMO_LATENCY_MS`, and change at run
time through each service's `/control/faults` endpoints (or `hopscope fault NAME on|off`).
"""

from __future__ import annotations

import asyncio
import os
import random

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

FAULTS = {
    "ledger_timeout": "the ledger's database stays locked: its writes time out and the failure propagates "
    "up to a 500 on the frontend",
    "inventory_down": "inventory answers 503; checkout falls back to 'assume in stock' (absorbed)",
    "payment_glitch": "payment fails the first attempt of every order; checkout's retry succeeds (absorbed)",
    "shipping_failure": "the shipping worker fails to process order events (asynchronous hop)",
    "slow_db": "every ledger write runs a slow query first: the whole checkout path slows down",
}


class GenericFaults(BaseModel):
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0, le=60_000)


class Toggle(BaseModel):
    enabled: bool


class FaultState:
    def __init__(self) -> None:
        names = {n.strip() for n in os.environ.get("DEMO_FAULTS", "").split(",") if n.strip()}
        self.active: set[str] = names & FAULTS.keys()
        self.generic = GenericFaults(
            error_rate=float(os.environ.get("DEMO_ERROR_RATE", "0") or 0),
            latency_ms=int(os.environ.get("DEMO_LATENCY_MS", "0") or 0),
        )

    def on(self, name: str) -> bool:
        return name in self.active

    async def apply_generic(self, service: str) -> None:
        """Added latency and random errors, as configured for this service."""
        if self.generic.latency_ms:
            await asyncio.sleep(self.generic.latency_ms / 1000)
        if self.generic.error_rate and random.random() < self.generic.error_rate:
            raise HTTPException(500, f"{service}: injected error")


faults = FaultState()
router = APIRouter(prefix="/control", tags=["control"])


@router.get("/faults")
def list_faults() -> dict:
    return {"active": sorted(faults.active), "available": FAULTS, **faults.generic.model_dump()}


@router.put("/faults/{name}")
def toggle(name: str, body: Toggle) -> dict:
    if name not in FAULTS:
        raise HTTPException(404, f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    (faults.active.add if body.enabled else faults.active.discard)(name)
    return list_faults()


@router.put("/faults")
def set_generic(body: GenericFaults) -> dict:
    faults.generic = body
    return list_faults()
