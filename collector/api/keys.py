"""/api/v1/keys: API keys for ingest, read and admin, created at run time (admin scope).

A key is shown once, when it is created; only its SHA-256 hash is stored. Revoked keys stay listed
(with when they were revoked) and stop working within seconds on every collector.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, Field, field_validator

from collector.api.bodies import validated
from collector.api.errors import ApiError
from collector.auth import SCOPES, hash_token, new_token
from collector.dependencies import KeysDep, KeyStoreDep

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class NewKey(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:@-]{1,100}$")
    scopes: list[str] = Field(min_length=1)

    @field_validator("scopes")
    @classmethod
    def _known(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scope(s) {', '.join(unknown)}: use {', '.join(SCOPES)}")
        return scopes


def _public(key_id: str, body: dict) -> dict:
    return {"id": key_id, **{k: v for k, v in body.items() if k != "hash"}}


@router.get("", summary="API keys (never the keys themselves)")
def list_keys(store: KeyStoreDep) -> list[dict]:
    return [_public(key_id, body) for key_id, body in sorted(store.all().items())]


@router.post("", status_code=201, summary="Create an API key; the response is the only time it is shown")
def create_key(store: KeyStoreDep, keys: KeysDep, body: Any = Body(...)) -> dict:
    wanted = validated(NewKey, body)
    key_id, token = new_token()
    stored = {"name": wanted.name, "scopes": sorted(set(wanted.scopes)), "hash": hash_token(token),
              "created": time.time(), "revoked": None, "last_used": None}  # fmt: skip
    store.put(key_id, stored)
    keys.reload()
    return {**_public(key_id, stored), "token": token}


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(key_id: str, store: KeyStoreDep, keys: KeysDep) -> Response:
    body = store.all().get(key_id)
    if body is None:
        raise ApiError(404, "key not found", f"no API key {key_id!r}")
    if not body.get("revoked"):
        store.put(key_id, {**body, "revoked": time.time()})
        keys.reload()
    return Response(status_code=204)
