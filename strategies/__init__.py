"""Hypothesis strategies derived from the specs: requests, callbacks, invalid-by-rule, formats.

The public API in a minute::

    import strategies

    strategies.requests("pay-by-bank", "createPayment")      # valid requests (Request values)
    strategies.callbacks("global-payments", "paymentInitiationStatus", status="REJECTED")   # valid bodies
    strategies.invalid("pay-by-bank", "createPayment", "pattern:/market")  # (example, Rule)
    strategies.invalid("pay-by-bank", "payments")             # any rule of the payments callback
    strategies.targets("pay-by-bank")                         # what can be generated, with rule names
    strategies.sample(strategy, n=10, seed=1)                 # distinct examples outside a test, seeded
    strategies.violations("pay-by-bank", "payments", body)    # rules an example breaks (spec's judge)
    strategies.formats.currency()                             # domain formats, usable on their own
    strategies.register_formats()                             # ...and registered with Schemathesis

`api` is a bundled spec name ("online-payments"), a path to a spec, or a loaded conformance Spec.
`target` is an operationId, or a callback's webhook name or operationId. Every strategy is built
once and cached; Schemathesis generates all values from the spec (a callback becomes an operation
on the receiver's side), and the rules table adds unique idempotency keys, excluded scenario
triggers, amounts that fit their currency and timestamps in order. A `Request` carries method,
path template, path_parameters, query, headers, body and media_type, plus `.url(base_url)` and
`.case(schema)` (a Schemathesis Case). Rule names (`required:/paymentAmount/value`,
`enum:/paymentType`, `additionalProperties:/`, `conditional:PBB-PAYMENT-STATUS-MESSAGE-CONDITIONAL`,
`required:header.merchant-id`) are stable; each Rule carries its JSON Schema `keyword`.
The package knows no HTTP. Guide: docs/strategies.md.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis.strategies import SearchStrategy

from conformance._specs import Spec

from . import formats
from ._catalog import Rule, Target, all_targets, model_of
from ._sampling import sample
from ._valid import Request

__all__ = [
    "Request",
    "Rule",
    "Target",
    "callbacks",
    "formats",
    "invalid",
    "register_formats",
    "requests",
    "sample",
    "targets",
    "violations",
]

Api = str | os.PathLike[str] | Spec


def requests(api: Api, operation_id: str, *, exclude_triggers: bool = True) -> SearchStrategy[Request]:
    """Valid requests of an operation: they pass the spec and its rules table.

    With `exclude_triggers` (the default) no value a scenario of this operation uses as a trigger
    (rules table `scenarios[].when`) is generated, so the provider answers on its default path.
    """
    from ._valid import request_strategy

    return request_strategy(model_of(api).target(operation_id), exclude_triggers=exclude_triggers)


def callbacks(api: Api, name: str, status: str | None = None) -> SearchStrategy[dict[str, Any]]:
    """Valid bodies of a callback (webhook name or operationId), every status or only `status`.

    Where the body is a list of records (Global Payments' `callbacks[]`), every record carries `status`.
    """
    from ._valid import callback_strategy

    return callback_strategy(model_of(api).target(name), status)


def invalid(api: Api, target: str, rule: str | None = None) -> SearchStrategy[tuple[Any, Rule]]:
    """(example, Rule) pairs, each example breaking exactly one documented rule (`rule`, or any when None).

    Examples are Requests for operations and bodies for callbacks; `str(rule)` is the rule's name.
    """
    from ._invalid import any_rule_strategy, rule_strategy

    model = model_of(api).target(target)
    return any_rule_strategy(model) if rule in (None, "any") else rule_strategy(model, rule)


def targets(api: Api | None = None) -> list[Target]:
    """Every operation and callback of a spec (of every bundled spec when None), with its rule names."""
    return all_targets(api)


def violations(api: Api, target: str, example: Any) -> list[str]:
    """Names of the rules an example breaks, judged by the spec's own validators (empty when valid)."""
    from ._judge import violations as judge

    return list(dict.fromkeys(violation.name for violation in judge(model_of(api).target(target), example)))


def register_formats() -> None:
    """Register the payment-domain formats with Schemathesis (idempotent); strategies here do it themselves."""
    formats.register()
