"""The receiver checks: each plays one situation a provider puts a receiver in, and judges its answers.

Like Schemathesis' checks, each is a small function registered with the rule it judges; its
docstring says what it sends. The deadline is judged by the context on every delivery. Resources
get fresh identities, so each check talks about payments no other check has touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _rules
from ._context import Context
from ._payloads import WRONG_CONTENT_TYPES, Identity, encode, invalid_json
from ._rules import ReceiverRule
from ._webhooks import Webhook

Check = Callable[[Context, Webhook], None]

CHECKS: list[tuple[ReceiverRule, Check]] = []
"""Every check with the rule it judges, in the order a run performs them."""


def receiver_check(rule: ReceiverRule) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CHECKS.append((rule, check))
        return check

    return register


def _status_word(status: str | None) -> str:
    return f"valid {status} callback" if status else "valid callback"


def _walk(ctx: Context, webhook: Webhook, statuses: tuple[str | None, ...], identities: list[Identity]) -> bool:
    """Deliver a resource's statuses in order (judged as valid callbacks); False when one is refused."""
    payloads = ctx.payloads(webhook)
    for status in statuses:
        body = payloads.stamp(payloads.valid(status), identities)
        delivery = ctx.deliver(webhook, _rules.ACK_VALID, body, note=f"lifecycle step {status}")
        if not ctx.expect_acknowledged(webhook, _rules.ACK_VALID, delivery, _status_word(status)):
            return False
        ctx.saw_status(webhook, body)
    return True


def _lead_to(ctx: Context, webhook: Webhook, status: str | None) -> tuple[dict[str, Any], list[Identity]] | None:
    """A body at `status` about fresh resources, after delivering the statuses that come before it."""
    payloads = ctx.payloads(webhook)
    body, identities = payloads.resources(status)
    before = webhook.machine.path_to(status)[:-1] if webhook.machine and status else ()
    if not _walk(ctx, webhook, before, identities):
        return None
    return body, identities


def _statuses(webhook: Webhook, count: int) -> list[str | None]:
    """`count` statuses cycling through the documented ones (None when the callback carries no status)."""
    pool: list[str | None] = list(webhook.statuses) or [None]
    return [pool[i % len(pool)] for i in range(count)]


@receiver_check(_rules.MTLS)
def refuses_senders_without_certificate(ctx: Context, webhook: Webhook) -> None:
    """With --client-cert: a callback sent with the certificate is accepted, the same without it refused."""
    if not ctx.sender.tls.mutual:
        reason = "mutual TLS not checked: no --client-cert given"
        ctx.skipped(webhook, _rules.MTLS, reason)
        return
    status = webhook.machine.initial[0] if webhook.machine else None
    body, _ = ctx.payloads(webhook).resources(status)
    accepted = ctx.deliver(webhook, _rules.MTLS, body, note="with the client certificate")
    ctx.expect_acknowledged(webhook, _rules.MTLS, accepted, f"{_status_word(status)} sent with the client certificate")
    body, _ = ctx.payloads(webhook).resources(status)
    anonymous = ctx.deliver(webhook, _rules.MTLS, body, with_certificate=False, note="without a client certificate")
    if anonymous.outcome == "timeout":
        return
    refused = anonymous.outcome in ("tls", "dropped", "refused") or (
        anonymous.status is not None and 400 <= anonymous.status < 500
    )
    if refused:
        ctx.passed(webhook, _rules.MTLS)
    else:
        ctx.failed(
            webhook,
            _rules.MTLS,
            anonymous,
            title=f"a sender without a client certificate was not refused: {anonymous.observed}",
            expected="the TLS handshake refused (or a 4xx), since mutual TLS is required",
        )


@receiver_check(_rules.ACK_VALID)
def acknowledges_valid_callbacks(ctx: Context, webhook: Webhook) -> None:
    """Every status sequence a resource can live through (initial to final), in order, each step 2xx."""
    machine = webhook.machine
    lifecycles: list[tuple[str | None, ...]] = list(machine.lifecycles()) if machine else []
    covered = {status for lifecycle in lifecycles for status in lifecycle}
    lifecycles += [(status,) for status in webhook.statuses if status not in covered]
    if not lifecycles:
        lifecycles = [(None,)]
    payloads = ctx.payloads(webhook)
    for _round in range(ctx.profile.lifecycle_rounds):
        for lifecycle in lifecycles:
            first = payloads.valid(lifecycle[0])
            identities = payloads.fresh_identities(max(1, len(payloads.records(first))))
            body = payloads.stamp(first, identities)
            delivery = ctx.deliver(webhook, _rules.ACK_VALID, body, note=f"lifecycle step {lifecycle[0]}")
            if ctx.expect_acknowledged(webhook, _rules.ACK_VALID, delivery, _status_word(lifecycle[0])):
                ctx.saw_status(webhook, body)
                _walk(ctx, webhook, lifecycle[1:], identities)


@receiver_check(_rules.DUPLICATE)
def acknowledges_duplicates(ctx: Context, webhook: Webhook) -> None:
    """The same callback, byte for byte, delivered twice in a row: the repeat is 2xx too."""
    for status in _statuses(webhook, ctx.profile.duplicates):
        led = _lead_to(ctx, webhook, status)
        if led is None:
            continue
        content = encode(led[0])
        first = ctx.deliver(webhook, _rules.ACK_VALID, content, note="first delivery")
        if not ctx.expect_acknowledged(webhook, _rules.ACK_VALID, first, _status_word(status)):
            continue
        ctx.saw_status(webhook, led[0])
        again = ctx.deliver(webhook, _rules.DUPLICATE, content, note="the same callback again")
        ctx.expect_acknowledged(webhook, _rules.DUPLICATE, again, f"repeated delivery of a {_status_word(status)}")


@receiver_check(_rules.OUT_OF_ORDER)
def tolerates_out_of_order(ctx: Context, webhook: Webhook) -> None:
    """For every allowed move A -> B: the resource is led to A's predecessor, then B arrives before A."""
    machine = webhook.machine
    if machine is None:
        ctx.skipped(webhook, _rules.OUT_OF_ORDER, "no state machine for this callback in the rules table")
        return
    payloads = ctx.payloads(webhook)
    for _round in range(ctx.profile.out_of_order_rounds):
        for earlier, later in machine.edges():
            led = _lead_to(ctx, webhook, earlier)
            if led is None:
                continue
            early_body, identities = led
            late_body = payloads.stamp(payloads.valid(later), identities)
            for status, body, note in (
                (later, late_body, f"{later} before {earlier}"),
                (earlier, early_body, f"{earlier} after {later}"),
            ):
                delivery = ctx.deliver(webhook, _rules.OUT_OF_ORDER, body, note=note)
                what = f"{_status_word(status)} delivered out of order ({note})"
                if ctx.expect_acknowledged(webhook, _rules.OUT_OF_ORDER, delivery, what):
                    ctx.saw_status(webhook, body)


@receiver_check(_rules.UNKNOWN_FIELDS)
def tolerates_unknown_fields(ctx: Context, webhook: Webhook) -> None:
    """Valid callbacks carrying fields no spec defines, at the top and in each record: 2xx."""
    payloads = ctx.payloads(webhook)
    for index, status in enumerate(_statuses(webhook, ctx.profile.unknown_fields)):
        led = _lead_to(ctx, webhook, status)
        if led is None:
            continue
        extended = payloads.with_unknown_fields(led[0], index)
        if extended is None:
            ctx.skipped(webhook, _rules.UNKNOWN_FIELDS, "the spec forbids fields it does not define in this callback")
            return
        delivery = ctx.deliver(webhook, _rules.UNKNOWN_FIELDS, extended, note="with fields the spec does not define")
        ctx.expect_acknowledged(
            webhook, _rules.UNKNOWN_FIELDS, delivery, f"{_status_word(status)} with fields the spec does not define"
        )


@receiver_check(_rules.REJECTS_MALFORMED)
def rejects_malformed(ctx: Context, webhook: Webhook) -> None:
    """Invalid JSON, a valid body under a wrong content type, and bodies breaking one rule each: 4xx."""
    payloads = ctx.payloads(webhook)
    rule = _rules.REJECTS_MALFORMED
    status = webhook.machine.initial[0] if webhook.machine else None
    for what, content in invalid_json(payloads.resources(status)[0], ctx.profile.invalid_json):
        delivery = ctx.deliver(webhook, rule, content, note=what)
        ctx.expect_rejected(webhook, rule, delivery, f"a callback body that is {what}")
    for content_type in WRONG_CONTENT_TYPES[: ctx.profile.wrong_content_types]:
        body, _ = payloads.resources(status)
        delivery = ctx.deliver(webhook, rule, body, content_type=content_type, note=f"Content-Type {content_type}")
        ctx.expect_rejected(webhook, rule, delivery, f"a JSON callback sent as {content_type}")
    examples = payloads.invalid(ctx.profile.invalid_per_rule)
    if not examples:
        ctx.skipped(webhook, rule, "the strategies offer no invalid-by-rule example for this callback")
    unassigned = _rules.REJECTS_UNASSIGNED_CODE
    judged_unassigned = False
    for body, broken in examples:
        # A well-formed code outside its list is unusual rather than malformed: judged by a `should` rule.
        by = unassigned if payloads.unassigned_code(broken) else rule
        judged_unassigned |= by is unassigned
        delivery = ctx.deliver(webhook, by, body, note=f"breaks {broken}")
        what = f"a callback breaking {broken}"
        if by is unassigned:
            what += " (a well-formed code outside its list)"
            refused = delivery.status is not None and 400 <= delivery.status < 500
            if delivery.outcome != "timeout" and not delivery.acknowledged and not refused:
                by = rule  # refusing it is a should; crashing on it (5xx, a dropped connection) is malformed handling
        ctx.expect_rejected(webhook, by, delivery, what)
    if not judged_unassigned:
        ctx.skipped(webhook, unassigned, "no field of this callback holds a code from a list (ISO 4217, ISO 3166)")
