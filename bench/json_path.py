"""OTLP/JSON bodies: what they cost on the collector's side, per span, on one core.

    python bench/json_path.py [--spans 5000] [--repeat 5]

A JSON body is decoded into the protobuf message first either way (`collector.otlp_codec.decode`,
ids from hex). Then either it is serialized again and handed to ClickHouse like a protobuf body
(what the collector does: `RowEncoder.rows` with no body) or converted in Python to Native blocks
(the Python path). Prints microseconds per span for: the JSON decode, the protobuf route's extra
work, the Python conversion, and a protobuf body's whole check for comparison.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.protobuf import json_format  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402

from bench.otlp_load import make_request  # noqa: E402
from collector import otlp_codec  # noqa: E402
from storage.ingest import RowEncoder  # noqa: E402
from storage.migrations import migrate  # noqa: E402
from storage.native import read_schema  # noqa: E402


def _otlp_json(body: bytes) -> bytes:
    """The protobuf request as OTLP/JSON (hex ids, as the spec writes them)."""
    message = ExportTraceServiceRequest.FromString(body)
    document = json_format.MessageToDict(message)
    for rs in document.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = __import__("base64").b64decode(span[key]).hex()
    import json

    return json.dumps(document).encode()


def _per_span(fn, repeat: int, spans: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best / spans * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import tempfile

    from storage.connection import connect

    with tempfile.TemporaryDirectory() as tmp:
        client = connect("chdb://" + tmp + "/db")
        migrate(client, 7)
        schema = read_schema(client, ["otel_traces"])
    sql, python = RowEncoder(schema, 7, True), RowEncoder(schema, 7, False)
    body = make_request(args.spans, 1)
    document = _otlp_json(body)
    cls = ExportTraceServiceRequest

    def decode_json():
        return otlp_codec.decode(document, otlp_codec.JSON, cls)

    decode = _per_span(decode_json, args.repeat, args.spans)
    decoded = [decode_json() for _ in range(2 * args.repeat)]  # each check takes spans out in place
    to_clickhouse = _per_span(lambda: sql.rows("traces", decoded.pop()), args.repeat, args.spans)
    in_python = _per_span(lambda: python.rows("traces", decoded.pop()), args.repeat, args.spans)
    protobuf = _per_span(lambda: sql.rows("traces", cls.FromString(body), body=body), args.repeat, args.spans)
    print(f"{args.spans} spans, {len(document) // 1024} KiB of OTLP/JSON ({len(body) // 1024} KiB protobuf)")
    print(f"JSON decode:                             {decode:6.1f} us/span")
    print(f"then check + serialize for ClickHouse:   {to_clickhouse:6.1f} us/span")
    print(f"then convert + encode in Python:         {in_python:6.1f} us/span")
    print(f"a protobuf body, parse + check:          {protobuf:6.1f} us/span")


if __name__ == "__main__":
    main()
