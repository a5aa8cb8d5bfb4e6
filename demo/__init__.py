"""The demo shop: five FastAPI services, a queue and a shipping worker, each instrumented only by
`import hopscope.auto`, with faults that can be switched on at run time."""
