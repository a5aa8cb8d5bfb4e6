"""Alerting in one object: `AlertingService` owns the alert stores, the channel registry, the
evaluator and the deliverer of one collector; `start()` and `stop()` run and end both loops.

Rules and silences come from the rule file and from the API (the file wins a name). Run the loops
in one collector only (HOPSCOPE_ALERTS=false on the others): the API works either way.
"""

from __future__ import annotations

from collections.abc import Callable

from alerting.channels import ChannelRegistry
from alerting.conditions import Readers
from alerting.delivery import Deliverer
from alerting.egress import EgressPolicy
from alerting.evaluator import Evaluator
from alerting.rules import AlertConfig, Rule, Silence, parse_rule
from storage.alert_objects import AlertRuleStore, SilenceStore
from storage.alert_outbox import AlertOutbox
from storage.secret_box import SecretBox
from storage.store import AlertStores


class AlertingService:
    def __init__(
        self,
        stores: AlertStores,
        readers: Readers,
        config: AlertConfig | None,
        *,
        secrets: SecretBox,
        egress: EgressPolicy,
        dashboard_url: str,
        interval: float = 30.0,
        delay: float = 5.0,
        webhook_timeout: float = 10.0,
        may_run: Callable[[], bool] = lambda: True,
    ) -> None:
        """`may_run`: whether this collector holds the alerting lease now (evaluation and delivery
        run on one collector at a time)."""
        self.config = config or AlertConfig()
        self.rule_store: AlertRuleStore = stores.rules
        self.silence_store: SilenceStore = stores.silences
        self.outbox: AlertOutbox = stores.outbox
        self.channels = ChannelRegistry(list(self.config.channels), stores.channels, secrets, egress)
        self.evaluator = Evaluator(
            readers,
            stores.outbox,
            stores.state,
            self.rules,
            self.channels,
            self.silences,
            dashboard_url,
            interval=interval,
            delay=delay,
            may_run=may_run,
        )
        self.deliverer = Deliverer(stores.outbox, self.channels, egress, timeout=webhook_timeout, may_run=may_run)
        self.running = False

    def rules(self) -> list[Rule]:
        """The rule file's rules, then the API's whose names the file does not use."""
        names = {r.name for r in self.config.rules}
        api = [parse_rule(body) for body in self.rule_store.all().values()]
        return list(self.config.rules) + [r for r in api if r.name not in names]

    def silences(self) -> list[Silence]:
        api = [Silence.model_validate(body) for body in self.silence_store.all().values()]
        return list(self.config.silences) + api

    def start(self) -> None:
        self.evaluator.start()
        self.deliverer.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.evaluator.stop()
            self.deliverer.stop()
            self.running = False
