"""Alert rules, notification channels and silences: the configuration model and its validation.

Rules come from a YAML file (validated at start-up; errors name the file, line and field) and from
the API (`/api/v1/alert-rules`, the same validation). Durations are written `30s`, `5m`, `2h`, `7d`
or as seconds.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from alerting.egress import header_problem
from core.durations import parse_duration_ns
from storage.log_reader import search_terms


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a duration such as 30s, 5m, 2h or 7d")
    if isinstance(value, (int, float)):
        return float(value)
    return parse_duration_ns(str(value)) / 1e9


Duration = Annotated[float, BeforeValidator(_duration), Field(ge=0)]


def _search(value: str | None) -> str | None:
    """A log search is checked by the code that will run it."""
    if value is not None:
        search_terms(value)
    return value


Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
Severity = Literal["critical", "warning", "info"]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name
    window: Duration = Field(300.0, gt=0, le=7 * 86400, description="how far back each evaluation looks")
    for_: Duration = Field(0.0, alias="for", le=7 * 86400, description="how long the condition must hold")
    severity: Severity = "warning"
    labels: dict[str, str] = {}
    description: str = ""


class ErrorRateRule(_Rule):
    """The share of failed requests of a service (or one operation) is above `threshold` (0–1)."""

    type: Literal["error_rate"]
    service: str
    operation: str | None = None
    threshold: float = Field(gt=0, le=1)


class LatencyRule(_Rule):
    """The p50, p95 or p99 latency of a service (or one operation) is above `threshold`."""

    type: Literal["latency"]
    service: str
    operation: str | None = None
    quantile: Literal[0.5, 0.95, 0.99] = 0.95  # type: ignore[valid-type]  # floats: valid for pydantic
    threshold: Duration = Field(gt=0)


class EdgeErrorRateRule(_Rule):
    """The share of failed calls from `caller` to `callee` (a service, database or queue) is above `threshold`."""

    type: Literal["edge_error_rate"]
    caller: str
    callee: str
    threshold: float = Field(gt=0, le=1)


class EdgeLatencyRule(_Rule):
    """The p50 or p95 latency of calls from `caller` to `callee` is above `threshold`."""

    type: Literal["edge_latency"]
    caller: str
    callee: str
    quantile: Literal[0.5, 0.95] = 0.95  # type: ignore[valid-type]  # floats: valid for pydantic
    threshold: Duration = Field(gt=0)


class NewSignatureRule(_Rule):
    """A failure signature (optionally through `service`) appears that was not seen in `lookback`."""

    type: Literal["new_signature"]
    service: str | None = None
    lookback: Duration = Field(7 * 86400.0, gt=0, le=31 * 86400)


class SignatureCountRule(_Rule):
    """Traces failing with one signature (or any, through `service`) in the window reach `threshold`."""

    type: Literal["signature_count"]
    signature: str | None = Field(None, pattern=r"^[0-9a-f]{16}$")
    service: str | None = None
    threshold: int = Field(ge=1)


class LogCountRule(_Rule):
    """Log records matching the search in the window reach `threshold`."""

    type: Literal["log_count"]
    query: Annotated[str | None, AfterValidator(_search)] = None
    log_severity: Literal["trace", "debug", "info", "warn", "error", "fatal"] | None = None  # this or worse
    service: str | None = None
    threshold: int = Field(ge=1)


class MetricThresholdRule(_Rule):
    """A stored metric, aggregated over the window, compares to `threshold` with `op`."""

    type: Literal["metric_threshold"]
    metric: str
    aggregation: Literal["avg", "min", "max", "sum", "last", "rate", "p50", "p95", "p99"] = "avg"
    service: str | None = None
    attributes: dict[str, str] = {}
    op: Literal[">", ">=", "<", "<="] = ">"
    threshold: float


class NoDataRule(_Rule):
    """A service sent no spans in the window: it went silent."""

    type: Literal["no_data"]
    service: str


Rule = Annotated[
    ErrorRateRule
    | LatencyRule
    | EdgeErrorRateRule
    | EdgeLatencyRule
    | NewSignatureRule
    | SignatureCountRule
    | LogCountRule
    | MetricThresholdRule
    | NoDataRule,
    Field(discriminator="type"),
]
RULE = TypeAdapter(Rule)


class Channel(BaseModel):
    """Where notifications go. `match` routes by label (and `severity`); empty matches everything."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    url: HttpUrl
    format: Literal["generic", "slack", "alertmanager"] = "generic"
    secret: SecretStr | None = None  # HMAC-SHA256 signing key; never shown back
    headers: dict[str, str] = {}
    match: dict[str, str] = {}

    @field_validator("headers")
    @classmethod
    def _settable(cls, headers: dict[str, str]) -> dict[str, str]:
        problems = [p for p in map(header_problem, headers) if p]
        if problems:
            raise ValueError("; ".join(problems))
        return headers


class Silence(BaseModel):
    """Mutes alerts of `rule` (or any) whose labels include every `matchers` pair, until `ends`."""

    model_config = ConfigDict(extra="forbid")

    rule: str | None = None
    matchers: dict[str, str] = {}
    starts: datetime | None = None
    ends: datetime
    comment: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> Silence:
        if not self.rule and not self.matchers:
            raise ValueError("a silence needs a rule or at least one matcher")
        if self.starts and self.starts >= self.ends:
            raise ValueError("starts must be before ends")
        return self


class AlertConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = []
    channels: list[Channel] = []
    silences: list[Silence] = []

    @model_validator(mode="after")
    def _unique_names(self) -> AlertConfig:
        for kind, items in (("rule", self.rules), ("channel", self.channels)):
            seen: set[str] = set()
            for item in items:
                if item.name in seen:
                    raise ValueError(f"two {kind}s are named {item.name!r}")
                seen.add(item.name)
        return self


class ConfigError(ValueError):
    """An invalid rule file or rule body; `problems` are lines such as `alerts.yaml:12: rules[1].threshold: ...`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in RULE_TYPES:  # the discriminator's branch name adds nothing for a reader
            continue
        else:
            text += ("." if text else "") + str(part)
    return text


# The rule types' names, from the union above (for error paths, where the branch name adds nothing).
RULE_TYPES = {get_args(m.model_fields["type"].annotation)[0] for m in get_args(get_args(Rule)[0])}


def _line(node: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            continue  # e.g. a discriminator branch, or a missing field: keep the parent's line
        node = child
        line = node.start_mark.line + 1
    return line


def problems_of(error: ValidationError, root: yaml.Node | None = None, source: str = "") -> list[str]:
    out = []
    for item in error.errors():
        loc = item.get("loc", ())
        if item.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")  # the rule's type is what is wrong: point at it
        line = _line(root, loc) if root is not None else None
        where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        message = item.get("msg", "invalid").removeprefix("Value error, ")
        out.append(f"{where}{_path(loc) or '(top level)'}: {message}")
    return out


def load_config(text: str, source: str = "alerts.yaml") -> AlertConfig:
    """Parse and validate a rule file; ConfigError lists every problem with its line."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) if root is not None else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError([f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must be a mapping with rules, channels and silences"])
    try:
        return AlertConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_of(exc, root, source)) from None


def parse_rule(body: Any) -> Rule:
    """Validate one rule (an API body); ConfigError names each bad field."""
    try:
        return RULE.validate_python(body)
    except ValidationError as exc:
        raise ConfigError(problems_of(exc)) from None


def load_config_file(path: str | Path | None) -> AlertConfig | None:
    """The rule file at `path`, validated (None when there is none); ConfigError or OSError."""
    if path is None:
        return None
    return load_config(Path(path).read_text(encoding="utf-8"), source=str(path))
