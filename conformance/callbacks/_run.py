"""A whole `conformance callbacks` run for one API: first contact, then every check on every webhook."""

from __future__ import annotations

from .._errors import SpecError
from .._specs import Spec
from ..checks import Severity, severity_of
from ..progress import Progress
from ..reporting import Recorder
from ._checks import CHECKS
from ._context import Context, ReceiverStopped
from ._profiles import Profile
from ._rules import RULES
from ._sender import Sender
from ._webhooks import webhooks


def check_receiver(
    spec: Spec,
    target: str,
    *,
    sender: Sender,
    recorder: Recorder,
    profile: Profile,
    seed: int,
    progress: Progress | None = None,
) -> Context:
    """Judge the receiver at `target` on every receiver rule, for every webhook of `spec`.

    The receiver is probed first (TargetUnreachable, exit 3, when it cannot be reached at all);
    afterwards every misbehaviour is a recorded failure. Returns the run's context (its failure count).
    """
    hooks = webhooks(spec)
    if not hooks:
        raise SpecError(f"{spec.name} sends no callbacks: {spec.path} has no webhooks")
    ctx = Context(spec, target, sender, recorder, profile, seed, progress)
    for url in dict.fromkeys(ctx.url(webhook) for webhook in hooks):
        sender.probe(url)
    for webhook in hooks:
        ctx.progress.start(spec.name, suite=webhook.name)
    for rule in RULES:
        severity = severity_of(spec, rule.id(spec.prefix), Severity(rule.severity, rule.severity_reason))
        recorder.rule(spec.name, rule.id(spec.prefix), rule.description, severity=severity.level,
                      severity_reason=severity.reason)
    for webhook in hooks:
        if webhook.coverage_label:
            recorder.expect_statuses(spec.name, webhook.coverage_label, webhook.statuses)
    pending = [(rule, check, webhook) for rule, check in CHECKS for webhook in hooks]
    try:
        while pending:
            _rule, check, webhook = pending[0]
            check(ctx, webhook)
            pending.pop(0)
    except ReceiverStopped as stop:
        reason = f"not judged: the receiver stopped answering ({stop})"
        ctx.progress.log(f"STOP {spec.name}: {stop}; the remaining checks were not run")
        for rule, _check, webhook in pending:
            ctx.skipped(webhook, rule, reason)
    for webhook in hooks:
        ctx.progress.done(spec.name, suite=webhook.name)
    return ctx
