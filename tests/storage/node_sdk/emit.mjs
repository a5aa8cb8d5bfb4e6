// Spans, log records and metric points made by the OpenTelemetry JavaScript SDK and sent by its
// OTLP/HTTP protobuf exporters to the base URL given as the first argument (tests/storage/corpus.py
// captures the request bodies for the differential tests of the ClickHouse conversion).
// Every attribute kind the JavaScript SDK writes: strings, integers, doubles, booleans, arrays of
// each; events, an exception, links, a remote parent with a trace state, every span kind; log bodies
// as text, number and map; every instrument kind, with an exponential histogram through a view.
import { SpanKind, SpanStatusCode, TraceFlags, context, createTraceState, diag, DiagLogLevel, trace } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";

const base = process.argv[2];
if (!base) {
  console.error("usage: node emit.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
let failed = false;
diag.setLogger(
  {
    error: (...args) => { failed = true; console.error("otel error:", ...args); },
    warn: (...args) => console.error("otel warning:", ...args),
    info: () => {}, debug: () => {}, verbose: () => {},
  },
  DiagLogLevel.WARN,
);

const resource = resourceFromAttributes({
  "service.name": "node-corpus",
  "service.version": "3.1.0",
  "deployment.environment.name": "test",
  "host.cpus": 2,
  "process.pid": 4242,
});

// -- spans
const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
});
const tracer = tracerProvider.getTracer("corpus.node", "1.2.3");
const remote = trace.setSpanContext(context.active(), {
  traceId: "5b8efff798038103d269b633813fc60c",
  spanId: "eee19b7ec3c1b174",
  traceFlags: TraceFlags.SAMPLED,
  traceState: createTraceState("vendor=opaque,other=1"),
  isRemote: true,
});
const server = tracer.startSpan("GET /checkout/{id}", {
  kind: SpanKind.SERVER,
  attributes: {
    "http.request.method": "GET",
    "http.response.status_code": 502,
    "url.full": "https://shop.example:8443/checkout/7?q=ü",
    "server.address": "shop.example",
    "server.port": 8443,
    "retry.ratio": 0.25,
    "sampled": true,
    "empty": "",
    "unicode": "ünïcødé ✓ 日本",
    "tags": ["a", "b", ""],
    "codes": [200, 404, 500],
    "weights": [1.5, 2.25, -0.125],
    "flags": [true, false],
  },
}, remote);
const inServer = trace.setSpan(remote, server);
const db = tracer.startSpan("SELECT ledger", {
  kind: SpanKind.CLIENT,
  attributes: { "db.system": "postgresql", "db.statement": "SELECT * FROM ledger WHERE id = $1", "db.rows": 0 },
}, inServer);
db.addEvent("retry", { attempt: 2, "backoff.seconds": 0.5 });
db.recordException(new Error("connection reset by peer"));
db.setStatus({ code: SpanStatusCode.ERROR, message: "ledger unavailable" });
db.end();
const producer = tracer.startSpan("orders publish", {
  kind: SpanKind.PRODUCER,
  attributes: { "messaging.system": "kafka", "messaging.destination.name": "orders" },
}, inServer);
producer.end();
const consumer = tracer.startSpan("orders process", {
  kind: SpanKind.CONSUMER,
  links: [{ context: producer.spanContext(), attributes: { "link.reason": "message", "link.batch": 3 } }],
}, context.active());
const internal = tracer.startSpan("render", { kind: SpanKind.INTERNAL }, trace.setSpan(context.active(), consumer));
internal.addEvent("cache miss");
internal.setStatus({ code: SpanStatusCode.OK });
internal.end();
consumer.end();
server.setStatus({ code: SpanStatusCode.ERROR });
server.end();

// -- logs
const loggerProvider = new LoggerProvider({
  resource,
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${base}/v1/logs` }) })],
});
const logger = loggerProvider.getLogger("corpus.node.logs", "0.9.0");
logger.emit({
  severityNumber: SeverityNumber.ERROR, severityText: "ERROR", body: "ledger unavailable: connection reset",
  attributes: { "exception.type": "Error", "retry.count": 2, "ratio": 0.75, "fatal": false, "ids": ["a", "b"] },
  context: trace.setSpan(context.active(), db),
});
logger.emit({ severityNumber: SeverityNumber.INFO, severityText: "INFO", body: "ünïcødé body ✓", attributes: { user: "ada" } });
logger.emit({ severityNumber: SeverityNumber.WARN, body: 42 });
logger.emit({ severityNumber: SeverityNumber.DEBUG, body: { order: "7", items: 3, paid: true, price: 9.5 } });
logger.emit({ body: ["x", 1] });
logger.emit({ severityText: "TRACE" });

// -- metrics
const reader = new PeriodicExportingMetricReader({
  exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
  exportIntervalMillis: 600000,
});
const meterProvider = new MeterProvider({
  resource,
  readers: [reader],
  views: [{ instrumentName: "request.size", aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
});
const meter = meterProvider.getMeter("corpus.node.metrics", "4.5.6");
const requests = meter.createCounter("requests", { unit: "{request}", description: "requests served" });
requests.add(3, { route: "/checkout", code: 200 });
requests.add(1, { route: "/checkout", code: 502, retried: true });
meter.createUpDownCounter("inflight").add(-2, { queue: "orders" });
const latency = meter.createHistogram("latency", { unit: "ms" });
for (const ms of [0.5, 3, 12.25, 250, 1800]) latency.record(ms, { route: "/checkout" });
const size = meter.createHistogram("request.size", { unit: "By" });
for (const bytes of [0, 1, 300, 4096, 1e6]) size.record(bytes);
meter.createGauge("temperature").record(21.5, { room: "server" });
meter.createObservableGauge("queue.depth").addCallback((result) => result.observe(17, { queue: "orders" }));
meter.createObservableCounter("cpu.seconds").addCallback((result) => result.observe(12.5));

await tracerProvider.forceFlush();
await loggerProvider.forceFlush();
await reader.forceFlush();
await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown(), meterProvider.shutdown()]);
process.exit(failed ? 1 : 0);
