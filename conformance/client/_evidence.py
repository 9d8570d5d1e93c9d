"""A client certification's evidence, through the Recorder like every command's: rules, failures, the trouble.

Each judgement becomes a passed check or a Failure whose exchange is the request that broke the rule,
whose chain is what came before it (the failed attempt a retry repeats), and whose `trouble` is the
injected trouble it followed. The report's `client` section holds the command, the schedule with
what each trouble met, and every operation the client called with the statuses it got.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..checks._client import ClientContext, Judgement, applies
from ..checks._traffic import ANSWERED, ClientExchange
from ..reporting import Exchange, Failure, Recorder
from ._schedule import Schedule


def as_exchange(exchange: ClientExchange, troubles: Mapping[str, Mapping[str, Any]]) -> Exchange:
    """A recorded request as report evidence (redacted by the Recorder on the way in)."""
    trouble = troubles.get(exchange.trouble or "")
    return Exchange(
        method=exchange.method, url=exchange.url, request_headers=dict(exchange.headers),
        request_body=exchange.content or None,
        status=exchange.status if exchange.outcome == ANSWERED or exchange.status is not None else None,
        response_headers=dict(exchange.response_headers), response_body=exchange.response_content or None,
        elapsed_ms=exchange.elapsed_ms, api=exchange.api, operation=exchange.operation, intent="valid",
        credential="run" if "authorization" in exchange.headers else "none", started_at=exchange.started_at,
        trouble=_trouble_view(trouble, exchange) if trouble is not None else None,
    )


def _trouble_view(trouble: Mapping[str, Any], exchange: ClientExchange) -> dict[str, Any]:
    view = {"id": trouble["id"], "kind": trouble["kind"], "description": trouble["description"],
            "exchange": exchange.seq}
    if exchange.outcome != ANSWERED:
        view["description"] += f" (the client saw: {exchange.outcome})"
    return view


def followed(judgement: Judgement) -> ClientExchange | None:
    """The exchange whose injected trouble the failing one followed: the latest before it that met one, else the
    failing exchange itself when it met one."""
    before = next((step for step in reversed(judgement.before) if step.trouble is not None), None)
    if before is not None or judgement.exchange is None:
        return before
    return judgement.exchange if judgement.exchange.trouble is not None else None


def record(recorder: Recorder, judgements: Iterable[Judgement], context: ClientContext,
           traffic: list[ClientExchange], schedule_rows: list[dict[str, Any]], section: Mapping[str, Any],
           secrets: Iterable[str] = ()) -> None:
    """Everything a client certification found, into the recorder (the report is written by `finish`)."""
    for secret in secrets:
        recorder.add_secret(secret)
    troubles = {row["id"]: row for row in schedule_rows}
    for api in context.apis:
        prefix = context.specs[api].prefix
        for rule in context.table.rules:
            if applies(context.specs[api], rule.suffix):
                recorder.rule(api, rule.id(prefix), rule.description)
    for judgement in judgements:
        result = judgement.result
        exchange = judgement.exchange
        if result.passed:
            recorder.passed(judgement.api, result.rule_id, judgement.operation,
                            seconds=(exchange.elapsed_ms or 0.0) / 1000 if exchange is not None else 0.0)
            continue
        cause = followed(judgement)
        recorder.failed(Failure(
            api=judgement.api, rule_id=result.rule_id, operation=judgement.operation, title=result.title,
            expected=result.expected, observed=result.observed,
            exchange=as_exchange(exchange, troubles) if exchange is not None else None,
            chain=[as_exchange(step, troubles) for step in judgement.before] if exchange is not None else [],
            trouble=_trouble_view(troubles[cause.trouble], cause) if cause is not None and cause.trouble in troubles
            else None,
        ))
    seconds: Counter[str] = Counter()
    for exchange in traffic:
        recorder.exchange(as_exchange(exchange, troubles))
        if exchange.api in context.apis and exchange.elapsed_ms is not None:
            seconds[exchange.api] += exchange.elapsed_ms / 1000
    for api, spent in seconds.items():
        recorder.spent(api, spent)
    recorder.attach("client", {**section, "troubles": schedule_rows, "operations": operations(traffic),
                               "exchanges": len(traffic)})


def operations(traffic: list[ClientExchange]) -> list[dict[str, Any]]:
    """Each operation the client called: how often, and the statuses it got (outcomes for no answer)."""
    found: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for exchange in traffic:
        entry = found.setdefault((exchange.api, exchange.operation), {
            "api": exchange.api, "operation": exchange.operation, "requests": 0, "statuses": {}})
        entry["requests"] += 1
        key = str(exchange.status) if exchange.outcome == ANSWERED else exchange.outcome
        entry["statuses"][key] = entry["statuses"].get(key, 0) + 1
    return list(found.values())


def schedule_rows(schedule: Schedule, injector: Any, notes: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The schedule as the report lists it: each trouble, where it was to land, and what it met."""
    rows = injector.report() if injector is not None else [dict(t.to_dict(), met=None) for t in schedule]
    for row in rows:
        row.update(notes.get(row["id"], {}))
    return rows
