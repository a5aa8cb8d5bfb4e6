"""Steady synthetic traffic against the demo frontend, with a progress line every few seconds.

    python -m demo.load --url http://127.0.0.1:8000 --rate 5 [--duration 60 | --count 100]

Not instrumented on purpose: it plays the users, so every trace starts at the frontend.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import httpx

SKUS = [f"sku-{i}" for i in range(1, 21)]
USERS = [f"user-{i}" for i in range(1, 200)]


class Progress:
    def __init__(self) -> None:
        self.sent = self.ok = self.failed = 0
        self.latencies: list[float] = []
        self._mark = (0.0, 0, 0, 0, 0)  # at the last line: elapsed, ok, failed, latencies, sent

    def line(self, elapsed: float) -> str:
        """The last interval (answers, failures, rate, latency since the previous line), then the total:
        after a fault is switched off the line shows it at once, not a share diluted over the run."""
        since, ok0, failed0, lat0, sent0 = self._mark
        self._mark = (elapsed, self.ok, self.failed, len(self.latencies), self.sent)
        ok, failed = self.ok - ok0, self.failed - failed0
        recent = sorted(self.latencies[lat0:]) or [0.0]
        p95 = recent[min(len(recent) - 1, int(len(recent) * 0.95))]
        span = elapsed - since
        rate = (self.sent - sent0) / span if span > 0 else 0.0
        share = failed / (ok + failed) * 100 if ok + failed else 0.0
        total = self.failed / (self.ok + self.failed) * 100 if self.ok + self.failed else 0.0
        return (
            f"[load] {elapsed:6.0f}s  last {span:.0f}s: ok {ok}  failed {failed} ({share:.0f}%)  {rate:.1f} req/s  "
            f"p50 {statistics.median(recent):.0f} ms  p95 {p95:.0f} ms  |  total: sent {self.sent}, "
            f"failed {self.failed} ({total:.0f}%)"
        )


async def _one(client: httpx.AsyncClient, url: str, progress: Progress) -> None:
    started = time.perf_counter()
    try:
        cart = {"user": random.choice(USERS), "sku": random.choice(SKUS), "quantity": random.randint(1, 3)}
        response = await client.post(url + "/checkout", json=cart)
        ok = response.status_code < 500
    except httpx.HTTPError:
        ok = False
    progress.latencies.append((time.perf_counter() - started) * 1000)
    if ok:
        progress.ok += 1
    else:
        progress.failed += 1


async def run(url: str, rate: float, duration: float = 0, count: int = 0, every: float = 5.0) -> Progress:
    """Send `rate` requests per second until `duration` seconds or `count` requests (0: forever)."""
    progress = Progress()
    started = time.monotonic()
    last_report = started
    tasks: set[asyncio.Task] = set()
    async with httpx.AsyncClient(timeout=30) as client:
        while True:
            now = time.monotonic()
            if (duration and now - started >= duration) or (count and progress.sent >= count):
                break
            task = asyncio.create_task(_one(client, url, progress))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            progress.sent += 1
            if every and now - last_report >= every:
                print(progress.line(now - started), flush=True)
                last_report = now
            next_at = started + progress.sent / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if tasks:
            await asyncio.wait(tasks)
    if every:
        print(progress.line(time.monotonic() - started), flush=True)
    return progress


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the frontend's base URL")
    parser.add_argument("--rate", type=float, default=5.0, help="requests per second (default 5)")
    parser.add_argument("--duration", type=float, default=0, help="seconds to run (default: until stopped)")
    parser.add_argument("--count", type=int, default=0, help="requests to send (default: until stopped)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args.url.rstrip("/"), args.rate, args.duration, args.count))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
