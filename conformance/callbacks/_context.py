"""One run against one receiver: where to send, what was sent, and how each delivery is judged.

Checks ask the context to deliver bodies and to judge the outcome under a rule; the context records
every delivery (callbacks.ndjson), every pass and every failure (with the exchange as evidence) in
the Recorder, and judges the deadline on every delivery itself.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime
from typing import Any

from .. import pointers
from .._specs import Spec
from ..progress import Progress
from ..reporting import Exchange, Failure, Recorder
from ..reporting._chain import chain_of
from . import _rules
from ._payloads import Payloads, encode
from ._profiles import Profile
from ._rules import ReceiverRule
from ._sender import Delivery, Sender
from ._webhooks import Webhook

HISTORY = 50
"""Deliveries a failure's chain (the callbacks before it about the same resource) is looked for in."""

STOP_AFTER_TIMEOUTS = 3
"""Deliveries in a row without an answer after which the receiver is taken to have stopped answering."""


class ReceiverStopped(Exception):
    """The receiver stopped answering: the rest of the run is not judged."""


class Context:
    """Sends deliveries for the checks and records what they show."""

    def __init__(
        self,
        spec: Spec,
        target: str,
        sender: Sender,
        recorder: Recorder,
        profile: Profile,
        seed: int,
        progress: Progress | None = None,
    ):
        self.spec = spec
        self.target = target
        self.sender = sender
        self.recorder = recorder
        self.profile = profile
        self.seed = seed
        self.progress = progress or Progress(quiet=True)
        """Counts per webhook while the run works, and a one-line account of each failure."""
        self.failures = 0
        self._payloads: dict[str, Payloads] = {}
        self._timeouts_in_a_row = 0
        self._history: deque[tuple[Delivery, Exchange]] = deque(maxlen=HISTORY)

    def url(self, webhook: Webhook) -> str:
        """The receiver URL for a webhook: the target, with {webhook} and {api} filled in when it has them."""
        return self.target.replace("{webhook}", webhook.name).replace("{api}", webhook.api)

    def payloads(self, webhook: Webhook) -> Payloads:
        if webhook.name not in self._payloads:
            self._payloads[webhook.name] = Payloads(self.spec, webhook, self.seed, self.profile.examples_per_status)
        return self._payloads[webhook.name]

    # -- delivering ------------------------------------------------------------------------------

    def deliver(
        self,
        webhook: Webhook,
        rule: ReceiverRule,
        body: Any,
        *,
        content_type: str | None = None,
        with_certificate: bool = True,
        note: str = "",
    ) -> Delivery:
        """Send a body (data as JSON, or bytes as they are) and judge the deadline on what came back."""
        content = body if isinstance(body, bytes) else encode(body)
        delivery = self.sender.deliver(
            self.url(webhook),
            content,
            webhook.media_type if content_type is None else content_type,
            with_certificate=with_certificate,
        )
        self._log(webhook, rule, delivery, note, with_certificate and self.sender.tls.mutual)
        self._history.append((delivery, self._exchange(webhook, delivery, body)))
        self._judge_deadline(webhook, delivery)
        return delivery

    def _log(self, webhook: Webhook, rule: ReceiverRule, delivery: Delivery, note: str, certified: bool) -> None:
        body: Any = delivery.request_body
        try:
            body = json.loads(body)
        except ValueError:
            pass
        self.recorder.callback(
            {
                "direction": "sent",
                "api": webhook.api,
                "webhook": webhook.name,
                "operation": webhook.operation_id,
                "check": rule.id(webhook.prefix),
                "note": note or None,
                "url": delivery.url,
                "content_type": delivery.request_headers.get("Content-Type"),
                "client_certificate": certified,
                "body": body,
                "status": delivery.status,
                "outcome": delivery.outcome,
                "error": delivery.error or None,
                "elapsed_ms": delivery.elapsed_ms,
            }
        )

    def _exchange(self, webhook: Webhook, delivery: Delivery, body: Any) -> Exchange:
        """A delivery as report evidence, with the statuses it carried (for the sequence a failure broke)."""
        statuses: list[str] = []
        if webhook.coverage_label is not None and isinstance(body, (dict, list)):
            for record in self.payloads(webhook).records(body):
                status = pointers.resolve(record, webhook.status_field)
                if isinstance(status, str):
                    statuses.append(status)
        return Exchange(
            method=delivery.method,
            url=delivery.url,
            request_headers=delivery.request_headers,
            request_body=delivery.request_body,
            status=delivery.status,
            response_headers=delivery.response_headers,
            response_body=delivery.response_body,
            elapsed_ms=delivery.elapsed_ms,
            api=webhook.api,
            operation=webhook.operation_id,
            intent="callback",
            statuses=tuple(statuses),
            started_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        )

    def _judge_deadline(self, webhook: Webhook, delivery: Delivery) -> None:
        if delivery.outcome != "timeout":
            self._timeouts_in_a_row = 0
            self.passed(webhook, _rules.DEADLINE)
            return
        self._timeouts_in_a_row += 1
        self.failed(
            webhook,
            _rules.DEADLINE,
            delivery,
            title=f"callback not acknowledged within the {self.sender.deadline:g} s deadline",
            expected=f"an answer within {self.sender.deadline:g} s",
        )
        if self._timeouts_in_a_row >= STOP_AFTER_TIMEOUTS:
            raise ReceiverStopped(
                f"{STOP_AFTER_TIMEOUTS} deliveries in a row got no answer within {self.sender.deadline:g} s"
            )

    # -- judging ---------------------------------------------------------------------------------

    def passed(self, webhook: Webhook, rule: ReceiverRule) -> None:
        self.recorder.passed(webhook.api, rule.id(webhook.prefix), webhook.operation_id)
        self.progress.advance(webhook.api, suite=webhook.name, passed=1)

    def failed(self, webhook: Webhook, rule: ReceiverRule, delivery: Delivery, *, title: str, expected: str) -> None:
        self.failures += 1
        rule_id = rule.id(webhook.prefix)
        exchange = next((kept for sent, kept in self._history if sent is delivery), None)
        exchange = exchange or self._exchange(webhook, delivery, None)
        chain = chain_of([kept for _, kept in self._history], exchange)
        self.recorder.failed(
            Failure(
                api=webhook.api,
                rule_id=rule_id,
                operation=webhook.operation_id,
                title=title,
                expected=expected,
                observed=delivery.observed,
                exchange=exchange,
                chain=chain,
            )
        )
        self.progress.advance(webhook.api, suite=webhook.name, failed=1)
        mark = "WARN" if rule.severity == "should" else "FAIL"
        self.progress.log(f"{mark} {rule_id} [{webhook.operation_id}]: {title}")

    def skipped(self, webhook: Webhook, rule: ReceiverRule, reason: str) -> None:
        self.recorder.skipped(webhook.api, rule.id(webhook.prefix), webhook.operation_id, reason=reason)
        self.progress.advance(webhook.api, suite=webhook.name, skipped=1)

    def expect_acknowledged(self, webhook: Webhook, rule: ReceiverRule, delivery: Delivery, what: str) -> bool:
        """2xx passes; any other answer or a dropped connection fails; no answer in time is the deadline's."""
        if delivery.outcome == "timeout":
            return False
        if delivery.acknowledged:
            self.passed(webhook, rule)
            return True
        self.failed(webhook, rule, delivery, title=f"{what} answered {delivery.observed}", expected="2xx")
        return False

    def expect_rejected(self, webhook: Webhook, rule: ReceiverRule, delivery: Delivery, what: str) -> None:
        """4xx passes; 2xx (accepted), 5xx (crashed) or a dropped connection fails."""
        if delivery.outcome == "timeout":
            return
        if delivery.outcome == "answered" and delivery.status is not None and 400 <= delivery.status < 500:
            self.passed(webhook, rule)
            return
        verb = "accepted" if delivery.acknowledged else "answered"
        self.failed(
            webhook,
            rule,
            delivery,
            title=f"{what} {verb} with {delivery.observed}"
            if delivery.outcome == "answered"
            else f"{what}: {delivery.observed}",
            expected="4xx (never 2xx, never 5xx, never a dropped connection)",
        )

    def saw_status(self, webhook: Webhook, body: Any) -> None:
        """Status coverage: each status delivered and acknowledged."""
        if webhook.coverage_label is None:
            return
        for record in self.payloads(webhook).records(body):
            status = pointers.resolve(record, webhook.status_field)
            if status is not pointers.MISSING and status is not None:
                self.recorder.saw_status(webhook.api, webhook.coverage_label, status)
