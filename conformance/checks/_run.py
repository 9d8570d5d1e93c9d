"""Checks over a whole run: status coverage, callback retries, scenario outcomes.

They judge what a run saw as a whole rather than one exchange, so they take plain data and return
Results; the plugin, the sink and the suites call them with what they collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._specs._rules import Scenario
from ._knowledge import SpecView
from ._model import Result, check, ok, violation


@check("{P}-STATUS-COVERAGE", on=())
def status_coverage(view: SpecView, seen: Mapping[str, Iterable[str]]) -> Iterator[Result]:
    """Every value of every `coverage` field was seen during the run; values never seen are reported as gaps."""
    rule = view.rule("{P}-STATUS-COVERAGE")
    entries = view.rules.coverage
    if not entries:
        return
    gaps = []
    for entry in entries:
        label = view.coverage_label(entry)
        missing = [value for value in view.coverage_values(entry) if value not in set(seen.get(label, ()))]
        if missing:
            gaps.append(f"{label}: {', '.join(missing)}")
    if gaps:
        yield violation(rule, "Documented statuses never seen", "every documented status driven at least once",
                        "never seen: " + "; ".join(gaps))
    else:
        yield ok(rule)


@check("{P}-CALLBACK-RETRY", on=())
def callback_retry(view: SpecView, attempts: list[tuple[float, int]], refusals: int, settled: bool) -> Iterator[Result]:
    """A callback answered non-2xx is delivered again, with growing gaps, until a 2xx, and then no more.

    `attempts` are (arrival time, status the sink answered) of one callback's deliveries, in order;
    the sink refused the first `refusals` of them on purpose. `settled` says the run waited long enough
    after the last attempt to tell that no more came.
    """
    rule = view.rule("{P}-CALLBACK-RETRY")
    answered = [status for _, status in attempts]
    if len(attempts) <= refusals:
        yield violation(rule, "Refused callback never delivered again",
                        f"{refusals} refusals then a redelivery answered 2xx",
                        f"{len(attempts)} deliveries: {answered}")
        return
    times = [arrived for arrived, _ in attempts[: refusals + 1]]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    accepted = [index for index, status in enumerate(answered) if 200 <= status < 300]
    if len(gaps) >= 2 and not _grows(gaps):
        yield violation(rule, "Retries without growing gaps", "a retry waiting clearly longer than an earlier one",
                        "gaps " + ", ".join(f"{gap:.3f}s" for gap in gaps))
    elif accepted and len(attempts) > accepted[0] + 1 and settled:
        yield violation(rule, "Callback delivered again after it was accepted", "no delivery after a 2xx",
                        f"{len(attempts) - accepted[0] - 1} more deliveries")
    else:
        yield ok(rule)


GROWTH = 1.4
"""How much longer than an earlier gap some later one must be to count as back-off."""


def _grows(gaps: list[float]) -> bool:
    """Whether some gap is clearly (GROWTH times) longer than an earlier one; a constant interval is not back-off.

    Compared with the shortest earlier gap, not only the first: a pause of the receiving process (a
    collection, a long call holding the interpreter) can only lengthen the gap it falls in, and a
    lengthened first gap must not hide the growth of the later ones."""
    shortest = gaps[0]
    for gap in gaps[1:]:
        if gap >= GROWTH * shortest:
            return True
        shortest = min(shortest, gap)
    return False


@check("{P}-READ-YOUR-WRITES", on=())
def read_your_writes(view: SpecView, read_status: int | None, identity: Any, read_body: Any,
                     where: str) -> Iterator[Result]:
    """A resource a create answered is readable by the document's read operation, and the read is about it
    (`identity` None: this read's answer does not name its resource, so only its success is judged)."""
    rule = view.rule("{P}-READ-YOUR-WRITES")
    if read_status is None or not 200 <= read_status < 300:
        yield violation(rule, "A resource just created cannot be read", f"2xx from {where}", read_status)
    elif identity is not None and str(identity) not in _strings(read_body):
        yield violation(rule, "The read answers about another resource", f"{where} names {identity}",
                        "a body that does not name it")
    else:
        yield ok(rule)


def _strings(body: Any) -> set[str]:
    from ..pointers import leaves

    return {str(leaf) for _, leaf in leaves(body)}


def matches(expected: Any, observed: Any) -> bool:
    """Scenario matching: a dict matches as a subset, a list as "each expected item matches some item"."""
    if isinstance(expected, dict):
        return isinstance(observed, dict) and all(
            key in observed and matches(value, observed[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(observed, list) and all(any(matches(item, got) for got in observed) for item in expected)
    return expected == observed


def scenario_outcome(scenario: Scenario | Mapping[str, Any], status: int | None, body: Any,
                     callbacks: list[Any] | None = None, silence: str | None = None) -> Iterator[Result]:
    """An answer (and callbacks, in order) as the scenario's `expect` says; reported under the scenario's ID.

    `silence` says what the wait saw when no callback about the resource came (shown as observed)."""
    expect = scenario.expect if isinstance(scenario, Scenario) else scenario["expect"]
    rule = scenario.id if isinstance(scenario, Scenario) else scenario["id"]
    if status != expect["status"]:
        yield violation(rule, f"Scenario answered {status}", f"HTTP {expect['status']}", status)
        return
    if "body" in expect and not matches(expect["body"], body):
        yield violation(rule, "Scenario answer differs from what the trigger documents", expect["body"], body)
        return
    expected_callbacks = expect.get("callbacks")
    if expected_callbacks and callbacks is not None:
        statuses = [status for status, _ in callbacks]
        if statuses != expected_callbacks["statuses"]:
            yield violation(rule, "Scenario callbacks differ", expected_callbacks["statuses"],
                            statuses or silence or statuses)
            return
        last = expected_callbacks.get("last")
        if last and not matches(last, callbacks[-1][1]):
            yield violation(rule, "Last callback differs from what the trigger documents", last, callbacks[-1][1])
            return
    yield ok(rule)
