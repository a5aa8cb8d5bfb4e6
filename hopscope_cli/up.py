"""`hopscope up`: what runs beside the collector — the dashboard, and with --demo the demo shop."""

from __future__ import annotations

import argparse

from collector.server import Companion
from collector.settings import Settings
from hopscope_cli.processes import local_url


class Companions:
    """Several companions started in order and stopped in reverse order."""

    def __init__(self, members: list[Companion]) -> None:
        self.members = members

    def start(self) -> None:
        for member in self.members:
            member.start()

    def stop(self) -> None:
        for member in reversed(self.members):
            member.stop()


def companions(settings: Settings, args: argparse.Namespace, receiver: Companion | None = None) -> Companions:
    """The dashboard, and with --demo the demo's webhook receiver (`receiver`) and the demo shop."""
    collector_url = local_url(settings.host, settings.port)
    members: list[Companion] = [receiver] if receiver is not None else []
    if not args.no_dashboard:
        from hopscope_cli.dashboard import DashboardCompanion

        members.append(DashboardCompanion(settings.host, args.dashboard_port, collector_url))
    if args.demo:
        from hopscope_cli.demo import DemoCompanion

        faults = tuple(filter(None, args.demo_faults.split(",")))
        tokens = [t for t in settings.ingest_tokens.get_secret_value().split(",") if t.strip()]
        members.append(DemoCompanion(collector_url, settings.data_dir, rate=args.demo_rate, faults=faults,
                                     ingest_token=tokens[0].strip() if tokens else None))  # fmt: skip
    return Companions(members)
