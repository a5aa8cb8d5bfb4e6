"""Request bodies validated by the domain's own models: a pydantic problem is a 400 naming the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alerting.rules import problems_of
from collector.api.errors import ApiError

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, f"invalid {model.__name__.lower()}", "; ".join(problems_of(exc))) from None
