"""OTLP/HTTP wire handling: media types, bounded reading and decompression, protobuf and OTLP JSON
decoding, and encoding of responses and google.rpc.Status error bodies.

OTLP JSON differs from protobuf's canonical JSON in one way that matters: trace and span ids are
hex strings, not base64. `decode` rewrites them before handing the document to protobuf's parser.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, status_pb2

from collector.errors import OtlpError

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
# A well-formed id of the wrong length: the converters reject the record it belongs to, so one bad
# id costs one record (partial success), not the whole request.
_BAD_ID = base64.b64encode(b"\xff").decode("ascii")

_GRPC_CODE = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.UNIMPLEMENTED,
    503: code_pb2.UNAVAILABLE,
}


def media_format(content_type: str | None) -> str:
    """PROTOBUF or JSON for a Content-Type header; OtlpError(415) for anything else."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in (PROTOBUF, JSON):
        return media
    raise OtlpError(415, f"unsupported content type {media or '(none)'!r}: use {PROTOBUF} or {JSON}")


_GZIP_MAGIC = b"\x1f\x8b"


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo Content-Encoding (identity or gzip) without ever holding more than `limit` bytes.

    A gzip body may hold several members (RFC 1952; what `cat a.gz b.gz` makes): every member is
    decoded. Anything after the last member that is not another member is refused (400)."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise OtlpError(415, f"unsupported content encoding {encoding!r}: use gzip or identity")
    out = bytearray()
    rest = body
    try:
        while True:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out += inflater.decompress(rest, limit + 1 - len(out))
            if len(out) > limit:
                raise OtlpError(413, f"decompressed body exceeds {limit} bytes")
            if not inflater.eof:
                raise OtlpError(400, "invalid gzip body: truncated stream")
            rest = inflater.unused_data
            if not rest:
                return bytes(out)
            if not rest.startswith(_GZIP_MAGIC):
                raise OtlpError(400, f"invalid gzip body: {len(rest)} bytes of garbage after the gzip stream")
    except zlib.error as exc:
        raise OtlpError(400, f"invalid gzip body: {exc}") from exc


def _prepare(node, path: str = "") -> None:
    """Hex ids to base64 (in place); a number no field can hold (1e400, NaN) is a 400 naming it."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        where = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
        if isinstance(value, (dict, list)):
            _prepare(value, where)
        elif isinstance(node, dict) and key in _ID_KEYS and isinstance(value, str):
            try:
                node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            except ValueError:
                node[key] = _BAD_ID
        elif isinstance(value, float) and not math.isfinite(value):
            raise OtlpError(400, f"invalid OTLP JSON: {where.lstrip('.')} is out of range")


def decode(body: bytes, fmt: str, message_cls: type[Message]) -> Message:
    """Parse an OTLP request body; OtlpError(400) when it is not a valid message."""
    message = message_cls()
    if not body:
        return message
    try:
        if fmt == PROTOBUF:
            message.ParseFromString(body)
        else:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise OtlpError(400, "invalid OTLP JSON: the body must be a JSON object")
            _prepare(document)
            json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (
        DecodeError,
        json_format.ParseError,
        ValueError,
        RecursionError,
        binascii.Error,
        OverflowError,
        TypeError,
    ) as exc:
        kind = "protobuf" if fmt == PROTOBUF else "OTLP JSON"
        raise OtlpError(400, f"invalid {kind} {message_cls.__name__}: {exc}") from exc
    return message


def encode(message: Message, fmt: str) -> bytes:
    if fmt == PROTOBUF:
        return message.SerializeToString()
    return json_format.MessageToJson(message, indent=None).encode("utf-8")


def status_body(error: OtlpError, fmt: str) -> bytes:
    """The google.rpc.Status body OTLP/HTTP sends with an error status."""
    status = status_pb2.Status(code=_GRPC_CODE.get(error.status, code_pb2.UNKNOWN), message=error.message)
    return encode(status, fmt)
