"""`payments_mock`: the embedded mock behind a recording proxy, for an integrator's own pytest suite.

    def test_checkout_survives_a_503(payments_mock):
        payments_mock.fail_next("createPayment", status=503)          # processed, then answered 503
        shop = Shop(base_url=payments_mock.base_url("pay-by-bank"), token_url=payments_mock.token_url,
                    client_id=payments_mock.client_id, client_secret=payments_mock.client_secret)
        assert shop.checkout(order).paid

After the test body, every exchange the test made is judged by the client rules; a broken rule fails the
test with its rule ID and the offending exchange. One mock serves the whole session (started on first
use); each function-scoped `payments_mock` puts a proxy of its own in front of it, so each test's
traffic, troubles and verdict are its own. With `payments_mock_scope = session` (ini) or
`--payments-mock-scope session`, one proxy serves the session and each test is judged on its own
exchanges. `@pytest.mark.payments_mock(profile="quick", seed=7)` injects a profile's seeded trouble
into a function-scoped test, as `conformance client` does.
"""

from __future__ import annotations

import atexit
import secrets
import threading
from typing import Any

from .._specs import SPEC_NAMES, load_client_rules, load_spec
from .._specs._client_rules import Action
from ..checks._client import Judgement
from ..checks._traffic import ClientExchange
from ._schedule import Schedule, Trouble
from ._session import ClientSession

TOKEN_TTL = 60.0
"""The shared mock's token lifetime: short enough that a long session's client must refresh."""

_shared: dict[str, Any] = {}
_lock = threading.Lock()


def shared_mock() -> Any:
    """The process's one embedded mock for the fixture (started on first use, stopped at exit)."""
    with _lock:
        if "mock" not in _shared:
            from ..mock import MockServer

            client_id, client_secret = "fixture-" + secrets.token_hex(4), secrets.token_urlsafe(24)
            mock = MockServer(port=0, client_id=client_id, client_secret=client_secret, token_ttl=TOKEN_TTL,
                              specs=list(SPEC_NAMES)).start()
            _shared.update(mock=mock, client_id=client_id, client_secret=client_secret)
            atexit.register(mock.stop)
        return _shared["mock"]


class PaymentsMock:
    """What a test gets: URLs and credentials, trouble on demand, the exchanges seen, and their judgement."""

    def __init__(self, profile: str | None = None, seed: int | None = None) -> None:
        table = load_client_rules()
        mock = shared_mock()
        schedule = Schedule.planned(table, profile, seed if seed is not None else 0) if profile else Schedule.none()
        self._session = ClientSession([load_spec(name) for name in SPEC_NAMES], table, schedule, mock=mock,
                                      client_id=_shared["client_id"], client_secret=_shared["client_secret"])
        self._asked: list[str] = []
        self._session.start()

    # -- where, and who ----------------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return self._session.origin

    @property
    def token_url(self) -> str:
        return self._session.token_url

    @property
    def client_id(self) -> str:
        return self._session.client_id

    @property
    def client_secret(self) -> str:
        return self._session.client_secret

    def base_url(self, api: str) -> str:
        """The base URL of an API ("pay-by-bank" -> http://127.0.0.1:PORT/tsapi/pay-by-bank/v2)."""
        return self._session.base_url(api)

    @property
    def base_urls(self) -> dict[str, str]:
        return self._session.base_urls

    @property
    def environ(self) -> dict[str, str]:
        """The CONFORMANCE_* variables `conformance client` sets, for code that reads its environment."""
        return self._session.environ

    @property
    def mock(self) -> Any:
        """The embedded MockServer behind the proxy (shared by the session)."""
        return self._session.mock

    # -- trouble on demand --------------------------------------------------------------------------------------

    def fail_next(self, operation: str, status: int = 503, *, api: str | None = None, processed: bool = True,
                  retry_after: float | None = None) -> Trouble:
        """The next request of `operation` is answered `status` (processed by the mock first, unless
        `processed=False`), with Retry-After when given."""
        description = f"The next {operation} is answered {status}" + (
            " after the mock processed it." if processed else " without being processed.")
        return self._ask("fail", description, Action(forward=processed, status=status,
                                                      retry_after_seconds=retry_after), operation, api)

    def drop_next(self, operation: str, *, api: str | None = None, processed: bool = True) -> Trouble:
        """The next request of `operation` gets no answer: the connection is closed (after the mock processed it)."""
        description = f"The connection of the next {operation} is closed without an answer."
        return self._ask("drop", description, Action(forward=processed, drop=True), operation, api)

    def delay_next(self, operation: str, seconds: float, *, api: str | None = None) -> Trouble:
        """The answer to the next request of `operation` is held `seconds` (past the client's timeout)."""
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        description = f"The answer to the next {operation} is held {seconds:g} s."
        return self._ask("delay", description, Action(forward=True, hold_seconds=seconds), operation, api)

    def revoke_tokens(self, *, api: str | None = None) -> Trouble:
        """The next request that needs a token (to `api`, or any) finds every token issued until then revoked:
        it is answered 401, as a provider answers after a key rotation."""
        description = "Every token issued so far is revoked when the next request needing a token arrives."
        return self._ask("token-revoked", description, Action(forward=True, revoke=True), None, api)

    def _ask(self, kind: str, description: str, action: Action, operation: str | None,
             api: str | None) -> Trouble:
        trouble = self._session.ask(kind, description, action, operation, api)
        self._asked.append(trouble.id)
        return trouble

    # -- what happened ---------------------------------------------------------------------------------------------

    @property
    def exchanges(self) -> list[ClientExchange]:
        """Every request the client sent through the proxy, in order, with what became of it."""
        return self._session.traffic

    def troubles(self) -> list[dict[str, Any]]:
        """Each trouble (asked for, or scheduled by the marker) and the exchange it met, if any."""
        assert self._session.injector is not None
        return self._session.injector.report()

    def checkpoint(self) -> tuple[int, int]:
        """(exchanges so far, troubles asked so far): where a test begins, for `failures`."""
        return len(self._session.traffic), len(self._asked)

    def failures(self, since: int = 0, asked_from: int = 0) -> list[Judgement]:
        """The client rules broken by the exchanges after number `since`, and the troubles asked for (from the
        `asked_from`th on) that no request met. Nothing sent and nothing asked: nothing to judge."""
        traffic = self._session.traffic
        asked = self._asked[asked_from:]
        if not traffic[since:] and not asked:
            return []
        scheduled = bool(self._session.schedule.profile)
        judgements, context, _ = self._session.judge(asked_only=not scheduled)
        found = [j for j in judgements if not j.result.passed and (
            (j.exchange is not None and j.exchange.seq > since) or (j.exchange is None and scheduled))]
        met = self._session.injector.met if self._session.injector is not None else {}
        for trouble in self._session.schedule:
            if trouble.id in asked and trouble.id not in met:
                found.append(self._unmet(trouble, context))
        return found

    def _unmet(self, trouble: Trouble, context: Any) -> Judgement:
        """CLIENT-EXERCISED broken: a trouble the test asked for, that no request met."""
        from ..checks._model import violation

        specs = self._session.specs
        api = trouble.api or next((name for name, spec in specs.items() if trouble.operation in spec.operations),
                                  None) or next(name for name, spec in specs.items() if spec.rules.is_token_endpoint)
        rule = context.table.rule("CLIENT-EXERCISED")
        return Judgement(api, violation(rule.id(specs[api].prefix), "An injected trouble was never met",
                                        f"a request meeting {trouble.id} ({trouble.slot})", "no such request"))

    def close(self) -> None:
        self._session.stop()


def failure_message(failures: list[Judgement], limit: int = 5) -> str:
    """What the test's failure says: each broken rule with its ID and the exchange that broke it."""
    from ..redaction import Redactor

    lines = [f"{len(failures)} client rule(s) broken:"]
    for judgement in failures[:limit]:
        result = judgement.result
        lines.append(f"{result.rule_id}: {result.title}")
        lines.append(f"  expected: {result.expected}")
        lines.append(f"  observed: {result.observed}")
        if judgement.exchange is not None:
            lines.append(f"  exchange: {judgement.exchange.describe()}")
        for before in judgement.before[-2:]:
            trouble = f" [injected {before.trouble}]" if before.trouble else ""
            lines.append(f"  after:    {before.describe()}{trouble}")
    if len(failures) > limit:
        lines.append(f"... and {len(failures) - limit} more")
    return Redactor().text("\n".join(lines))
