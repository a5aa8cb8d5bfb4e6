"""The one way SQL text is put together: `compose(template, name=fragment)`.

A template holds two kinds of slots. `{name:Type}` is a bound parameter: the value travels apart
from the text (`parameters=`), and identifiers are bound the same way as `{name:Identifier}`.
`{name}`, with no type, is a slot for a fixed fragment of SQL written in this package (a column
list, a condition, the WHERE clause a `Where` built): never a value from a request.
"""

from __future__ import annotations

import re

_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def compose(template: str, **fragments: str) -> str:
    """`template` with the `{name}` slots named in `fragments` filled; other slots stay for a later
    `compose` (a module-level query fills its fixed parts, the reader its WHERE clause)."""
    return _SLOT.sub(lambda match: fragments.get(match.group(1), match.group(0)), template)


def rename_parameters(template: str, **names: str) -> str:
    """`template` with the bound parameters `{old:Type}` renamed `{new:Type}` (`old=new`), so one
    query can be used twice, with its own values each time, inside a larger one."""
    for old, new in names.items():
        template = template.replace("{" + old + ":", "{" + new + ":")
    return template
