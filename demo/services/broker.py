import hopscope.auto  # noqa: F401, I001 - first: telemetry before anything else is imported

from collections import defaultdict, deque

from fastapi import FastAPI, Response
from pydantic import BaseModel

from demo.faults import router as control

app = FastAPI(title="demo queue (a minimal in-memory message broker)")
app.include_router(control)
MAX_MESSAGES = 10_000  # per topic; the oldest are dropped beyond it
_topics: dict[str, deque] = defaultdict(lambda: deque(maxlen=MAX_MESSAGES))


class Message(BaseModel):
    body: dict
    headers: dict[str, str] = {}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/topics/{topic}/messages", status_code=202)
def publish(topic: str, message: Message) -> dict:
    _topics[topic].append(message)
    return {"queued": len(_topics[topic])}


@app.get("/topics/{topic}")
def depth(topic: str) -> dict:
    """How many messages wait in `topic`."""
    return {"depth": len(_topics.get(topic, ()))}


@app.post("/topics/{topic}/poll", response_model=None)
def poll(topic: str) -> Message | Response:
    queue = _topics.get(topic)
    if not queue:
        return Response(status_code=204)
    return queue.popleft()
