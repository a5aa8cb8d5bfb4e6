"""Several collectors on one store: the roll-up and alerting run on the lease holder only, and
another collector takes over when it goes away."""

from __future__ import annotations

from collector.main import ALERTING_LEASE, ROLLUP_LEASE, create_app
from tests.conftest import StoringClient, make_settings


def test_only_the_lease_holder_runs_once_only_work(storage_url, ch, tmp_path):
    first: StoringClient | None = StoringClient(create_app(make_settings(storage_url, data_dir=tmp_path / "a")))
    first.__enter__()
    try:
        with StoringClient(create_app(make_settings(storage_url, data_dir=tmp_path / "b"))) as second:
            holder, waiting = first.app.state.leases, second.app.state.leases  # type: ignore[attr-defined]
            for lease in (ROLLUP_LEASE, ALERTING_LEASE):
                assert holder.holds(lease) and not waiting.holds(lease)
            waiting.refresh()
            assert not waiting.holds(ALERTING_LEASE)  # still held by the first
            first.__exit__(None, None, None)  # the first collector stops and lets go
            first = None
            waiting.refresh()
            assert waiting.holds(ROLLUP_LEASE) and waiting.holds(ALERTING_LEASE)
    finally:
        if first is not None:
            first.__exit__(None, None, None)
