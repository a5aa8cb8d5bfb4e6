"""Analysed failure chains (hopscope_failure_chains, migration 019): which failing traces still need
(re-)analysis, writing each trace's chains, and failure groups as aggregations over them."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass

from clickhouse_connect.driver.client import Client

from core.types import (
    EntryPoint,
    Evidence,
    FailureChain,
    FailureGroup,
    GroupCause,
    Hop,
    LatencyCause,
    LogEvidence,
    Origin,
    Symptom,
    TimeRange,
    VersionSeen,
)
from storage.sql_text import compose
from storage.trace_reader import ERROR_LOG, FAILED_SPAN

EXAMPLES = 5

# Failing traces (a failed span or an error log record in the range) whose newest span is older than
# `settled` and that were not analysed with as many spans as they have now.
_PENDING = compose(
    """
SELECT f.TraceId, f.Spans, toUnixTimestamp64Nano(f.Last), toUnixTimestamp64Milli(a.PrevAnalyzedAt),
       toUnixTimestamp64Nano(a.PrevLastSpan) FROM (
    SELECT TraceId, toUInt32(count()) AS Spans, max(Timestamp) AS Last FROM otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) - toIntervalMinute(15)
      AND Timestamp < fromUnixTimestamp64Nano({until:Int64}) + toIntervalMinute(15)
      AND TraceId IN (
          SELECT TraceId FROM otel_traces
          WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
            AND {failed_span}
          UNION DISTINCT
          SELECT TraceId FROM otel_logs
          WHERE TimestampTime >= toDateTime(intDiv({since:Int64}, 1000000000))
            AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
            AND {error_log})
    GROUP BY TraceId
    HAVING Last < fromUnixTimestamp64Nano({settled:Int64})
) AS f
LEFT JOIN (
    SELECT TraceId, argMax(Spans, AnalyzedAt) AS PrevSpans, max(AnalyzedAt) AS PrevAnalyzedAt,
           argMax(LastSpan, AnalyzedAt) AS PrevLastSpan
    FROM hopscope_failure_chains
    WHERE LastSpan >= fromUnixTimestamp64Nano({since:Int64}) - toIntervalHour(1)
    GROUP BY TraceId
) AS a ON a.TraceId = f.TraceId
WHERE a.TraceId = '' OR a.PrevSpans != f.Spans
ORDER BY f.Last {direction}
LIMIT {limit:UInt32}
""",
    failed_span=FAILED_SPAN,
    error_log=ERROR_LOG,
)


# Failing traces of the range never analysed, newest first (what an answer analyses itself).
_UNANALYSED = compose(
    """
SELECT f.TraceId FROM (
    SELECT TraceId, max(Timestamp) AS Last FROM (
        SELECT TraceId, Timestamp FROM otel_traces
        WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
          AND {failed_span}
        UNION ALL
        SELECT TraceId, Timestamp FROM otel_logs
        WHERE TimestampTime >= toDateTime(intDiv({since:Int64}, 1000000000))
          AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
          AND {error_log})
    GROUP BY TraceId
) AS f
LEFT ANTI JOIN (
    SELECT DISTINCT TraceId FROM hopscope_failure_chains
    WHERE LastSpan >= fromUnixTimestamp64Nano({since:Int64}) - toIntervalHour(1)
) AS a ON a.TraceId = f.TraceId
ORDER BY f.Last DESC
LIMIT {limit:UInt32}
""",
    failed_span=FAILED_SPAN,
    error_log=ERROR_LOG,
)

# Each trace's latest analysis, the chains of the range.
_LATEST = """
SELECT * FROM hopscope_failure_chains
WHERE LastSpan >= fromUnixTimestamp64Nano({since:Int64}) AND LastSpan < fromUnixTimestamp64Nano({until:Int64})
  AND (TraceId, AnalyzedAt) NOT IN (
      SELECT TraceId, AnalyzedAt FROM hopscope_failure_chains_superseded
      WHERE LastSpan >= fromUnixTimestamp64Nano({since:Int64}) - toIntervalHour(1))
  AND Signature != '' AND NOT has({exclude:Array(String)}, TraceId)
  AND ({service:String} = '' OR has(Services, {service:String}))
  AND ({propagated:Int8} < 0 OR Propagated = {propagated:Int8})
"""

_ANALYSED_TRACES = compose(
    """
WITH latest AS ({latest})
SELECT count(DISTINCT TraceId) FROM latest
""",
    latest=_LATEST,
)

_GROUPS = compose(
    """
WITH latest AS ({latest})
SELECT Signature, SymptomOf, toUInt64(count()) AS traces, toUInt64(countIf(Propagated = 1)), toUInt64(sum(Attempts)),
       toUnixTimestamp64Nano(min(EntryStart)), toUnixTimestamp64Nano(max(EntryStart)), argMax(TraceId, EntryStart),
       arrayMap(x -> x.2, groupArraySorted({examples:UInt8})((-toUnixTimestamp64Nano(EntryStart), TraceId)))
FROM latest
GROUP BY Signature, SymptomOf
""",
    latest=_LATEST,
)

# The chain standing for each group: its newest trace's (read apart: the JSON is the widest column).
_CHAINS = """
SELECT Signature, argMax(Chain, AnalyzedAt) FROM hopscope_failure_chains
WHERE LastSpan >= fromUnixTimestamp64Nano({since:Int64}) AND LastSpan < fromUnixTimestamp64Nano({until:Int64})
  AND (TraceId, Signature) IN {pairs:Array(Tuple(String, String))}
GROUP BY Signature
"""

# The breakdowns of each group: entry points, minutes, versions, latency causes (of the traces where
# the signature was no other chain's symptom).
_DETAILS = compose(
    """
WITH latest AS (SELECT * FROM ({latest}) WHERE SymptomOf = '')
SELECT Signature, 'entry' AS Kind, toString(EntryService) AS A, toString(EntryOperation) AS B, toUInt64(count()) AS N,
       toUInt64(0) AS SelfNs, toFloat64(0) AS Share
FROM latest GROUP BY Signature, EntryService, EntryOperation
UNION ALL
SELECT Signature, 'minute' AS Kind, toString(toUnixTimestamp(toStartOfMinute(EntryStart))) AS A, '' AS B,
       toUInt64(count()) AS N, toUInt64(0) AS SelfNs, toFloat64(0) AS Share
FROM latest GROUP BY Signature, A
UNION ALL
SELECT Signature, 'version' AS Kind, toString(Version) AS A, '' AS B, toUInt64(count()) AS N, toUInt64(0) AS SelfNs,
       toFloat64(0) AS Share
FROM latest WHERE Version != '' GROUP BY Signature, Version
UNION ALL
SELECT Signature, 'cause' AS Kind, toString(CauseService) AS A, toString(CauseOperation) AS B, toUInt64(count()) AS N,
       toUInt64(median(CauseSelfNs)) AS SelfNs, toFloat64(median(CauseShare)) AS Share
FROM latest WHERE CauseService != '' GROUP BY Signature, CauseService, CauseOperation
""",
    latest=_LATEST,
)

_COLUMNS = (
    "TraceId", "AnalyzedAt", "Spans", "LastSpan", "Signature", "EntryStart", "Propagated", "Attempts", "EntryService",
    "EntryOperation", "Services", "Version", "CauseService", "CauseOperation", "CauseSelfNs", "CauseShare", "Chain",
    "SymptomOf",
)  # fmt: skip


@dataclass(frozen=True)
class Analysis:
    """One analysis of one trace: its span count and newest span then, and its chains."""

    trace_id: str
    spans: int
    last_span_ns: int
    chains: list[FailureChain]
    supersedes: tuple[int, int] | None = None  # the earlier analysis it replaces: (analysed at ms, its newest span ns)


class ChainStore:
    def __init__(self, client: Client) -> None:
        self._client = client

    def pending(self, window: TimeRange, settled_ns: int, limit: int) -> list[Analysis]:
        """Failing traces of `window` whose newest span is older than `settled_ns` and that need
        (re-)analysis, oldest first: each an Analysis without chains yet (spans, newest span, and
        the analysis it will replace)."""
        params = {"since": window.since_ns, "until": window.until_ns, "settled": settled_ns, "limit": limit}
        sql = compose(_PENDING, direction="ASC")
        return [
            Analysis(trace_id, spans, last, [], (analysed_ms, prev_last) if analysed_ms else None)
            for trace_id, spans, last, analysed_ms, prev_last in self._client.query(sql, parameters=params).result_rows
        ]

    def unanalysed(self, window: TimeRange, limit: int) -> list[str]:
        """Failing traces of `window` never analysed yet, newest first."""
        params = {"since": window.since_ns, "until": window.until_ns, "limit": limit}
        return [row[0] for row in self._client.query(_UNANALYSED, parameters=params).result_rows]

    def analysed_traces(
        self, window: TimeRange, service: str | None, propagated: bool | None, exclude: tuple[str, ...]
    ) -> int:
        """How many traces of the range have chains stored (their latest analysis)."""
        return self._client.query(
            _ANALYSED_TRACES, parameters=self._params(window, service, propagated, exclude)
        ).result_rows[0][0]

    @staticmethod
    def _params(window: TimeRange, service: str | None, propagated: bool | None, exclude: tuple[str, ...]) -> dict:
        return {
            "since": window.since_ns,
            "until": window.until_ns,
            "exclude": list(exclude),
            "service": service or "",
            "propagated": -1 if propagated is None else int(propagated),
            "examples": EXAMPLES,
        }

    def write(self, analyses: list[Analysis]) -> int:
        """One insert for all of them (and one for the analyses they replace); returns the rows written."""
        now = time.time_ns() // 10**6  # DateTime64(3) takes milliseconds
        rows = []
        for a in analyses:
            if not a.chains:
                rows.append([a.trace_id, now, a.spans, a.last_span_ns, "", a.last_span_ns, 0, 0, "", "", [], "",
                             "", "", 0, 0.0, "", ""])  # fmt: skip
            for c in a.chains:
                cause = c.latency_cause
                rows.append(
                    [
                        a.trace_id, now, a.spans, a.last_span_ns, c.signature, c.entry_start_ns, int(c.propagated),
                        min(c.attempts, 65535), c.entry.service, c.entry.operation, list(c.services), c.version,
                        cause.service if cause else "", cause.operation if cause else "",
                        cause.self_ns if cause else 0, cause.share if cause else 0.0,
                        json.dumps(asdict(c), separators=(",", ":")), c.symptom_of,
                    ]
                )  # fmt: skip
        superseded = [[a.trace_id, a.supersedes[0], a.supersedes[1]] for a in analyses if a.supersedes]
        if superseded:
            self._client.insert(
                "hopscope_failure_chains_superseded", superseded, column_names=("TraceId", "AnalyzedAt", "LastSpan")
            )
        if rows:
            self._client.insert("hopscope_failure_chains", rows, column_names=_COLUMNS)
        return len(rows)

    def groups(
        self,
        window: TimeRange,
        service: str | None = None,
        propagated: bool | None = None,
        exclude: tuple[str, ...] = (),
    ) -> list[FailureGroup]:
        """Failure groups of the traces analysed in the range (their latest analysis), without the
        traces in `exclude` (being analysed live by the caller)."""
        params = self._params(window, service, propagated, exclude)
        heads = self._client.query(_GROUPS, parameters=params).result_rows
        if not heads:
            return []
        pairs = [(trace_id, signature) for signature, _, *_, trace_id, _ in heads]
        rows = self._client.query(_CHAINS, parameters={**params, "pairs": pairs}).result_rows
        chains: dict[str, str] = {signature: text for signature, text in rows}
        details: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for signature, kind, a, b, n, self_ns, share in self._client.query(_DETAILS, parameters=params).result_rows:
            details[signature][kind].append((a, b, n, self_ns, share))
        parents = {signature for signature, symptom_of, *_ in heads if not symptom_of}
        symptoms: dict[str, list[Symptom]] = defaultdict(list)
        counts: dict[str, list] = {}
        for signature, symptom_of, traces, propagated_traces, attempts, first, last, _, examples in heads:
            if symptom_of in parents:
                chain = chain_from_json(chains[signature])
                symptoms[symptom_of].append(Symptom(signature, chain.origin, chain.services, traces))
                continue
            seen = counts.setdefault(signature, [0, 0, 0, first, last, []])
            seen[0] += traces
            seen[1] += propagated_traces
            seen[2] += attempts
            seen[3], seen[4] = min(seen[3], first), max(seen[4], last)
            seen[5] += [t for t in examples if t not in seen[5]]
        groups = []
        for signature, (traces, propagated_traces, attempts, first, last, examples) in counts.items():
            chain = chain_from_json(chains[signature])
            d = details[signature]
            causes = sorted(d["cause"], key=lambda c: (-c[2], c[0], c[1]))
            groups.append(
                FailureGroup(
                    signature=signature,
                    traces=traces,
                    propagated_traces=propagated_traces,
                    absorbed_traces=traces - propagated_traces,
                    origin=chain.origin,
                    path=chain.services,
                    hops=chain.hops,
                    # (A signature seen only as a symptom whose group was filtered out has no
                    # breakdowns of its own: its representative chain and counts stand in.)
                    entry_points=tuple(EntryPoint(s, o, n) for s, o, n, _, _ in sorted(d["entry"], key=lambda e: -e[2]))
                    or (EntryPoint(chain.entry.service, chain.entry.operation, traces),),
                    first_seen_ns=first,
                    last_seen_ns=last,
                    per_minute=tuple(sorted((int(m), n) for m, _, n, _, _ in d["minute"]))
                    or ((first // 60_000_000_000 * 60, traces),),
                    example_trace_ids=tuple(examples[:EXAMPLES]),
                    attempts=attempts,
                    latency_cause=GroupCause(
                        causes[0][0], causes[0][1], causes[0][2], int(causes[0][3]), round(float(causes[0][4]), 4)
                    )
                    if causes
                    else None,  # fmt: skip
                    versions=tuple(
                        VersionSeen(v, n, None) for v, _, n, _, _ in sorted(d["version"], key=lambda v: -v[2])
                    ),
                    symptoms=tuple(sorted(symptoms[signature], key=lambda x: (-x.traces, x.signature))),
                    partial=chain.orphaned_entry,
                )
            )
        return sorted(groups, key=lambda g: (-g.propagated_traces, -g.traces, g.signature))


def chain_from_json(text: str) -> FailureChain:
    """A FailureChain from the JSON `ChainStore.write` stored."""
    d = json.loads(text)
    origin = d["origin"]
    evidence = origin.get("evidence")
    if evidence is not None:
        log = evidence.get("log")
        evidence = Evidence(**{**evidence, "log": LogEvidence(**log) if log else None})
    cause = d.get("latency_cause")
    return FailureChain(
        **{
            **d,
            "origin": Origin(**{**origin, "evidence": evidence}),
            "hops": tuple(Hop(**h) for h in d["hops"]),
            "services": tuple(d["services"]),
            "latency_cause": LatencyCause(**cause) if cause else None,
            "upstream_traces": tuple(d.get("upstream_traces", ())),
        }
    )
