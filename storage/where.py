"""A small builder for the dynamic part of a WHERE clause: fixed SQL fragments, values always bound
as `{name:Type}` parameters, never formatted into the text."""

from __future__ import annotations


class Where:
    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.parameters: dict[str, object] = {}

    def add(self, fragment: str, **values: object) -> Where:
        """`fragment` names its values as {key:Type} placeholders; `values` binds them."""
        self.conditions.append(fragment)
        self.parameters.update(values)
        return self

    def param(self, prefix: str, value: object) -> str:
        """A fresh parameter name bound to `value` (for repeated filters such as attributes)."""
        name = f"{prefix}{len(self.parameters)}"
        self.parameters[name] = value
        return name

    def attribute_equals(self, maps: tuple[str, ...], key: str, value: str) -> Where:
        """`key` = `value` in any of the Map columns `maps` (fixed column names, never user input)."""
        k, v = self.param("k", key), self.param("v", value)
        return self.add(" OR ".join(f"{column}[{{{k}:String}}] = {{{v}:String}}" for column in maps))

    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.conditions) if self.conditions else "1"
