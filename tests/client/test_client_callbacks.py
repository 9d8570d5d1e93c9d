"""The two reference examples together: the reference client runs under `conformance client --callback-url`, and the
embedded mock posts Global Payments' status callbacks to the reference receiver at `{client-url}/status`."""

from __future__ import annotations

import sys
import time

from client_support import REFERENCE, ROOT

sys.path.insert(0, str(ROOT / "tests" / "callbacks"))

from callbacks_support import serve  # noqa: E402

from examples.receiver import CallbackReceiver  # noqa: E402


def test_the_reference_receiver_stores_each_status_posted_to_client_url_status(run_client):
    receiver = CallbackReceiver("global-payments")
    with serve(receiver.app()) as origin:
        run = run_client("--api", "global-payments", "--no-trouble", "--callback-url", f"{origin}/callbacks",
                         command=[*REFERENCE, "--api", "global-payments"])
        for _ in range(100):  # the last callback may still be on its way when the client is done
            if len(receiver.store.events) >= 4:
                break
            time.sleep(0.05)
    assert run.code == 0, run.out + run.err
    initiated = {op["operation"]: op for op in run.certification["client"]["operations"]}
    assert initiated["initiatePayments"]["statuses"] == {"202": 2}
    stored = sorted((webhook, status) for webhook, _, status in receiver.store.events)
    assert stored == [("paymentInitiationStatus", "COMPLETED")] * 2 + [("paymentInitiationStatus", "PENDING")] * 2
    assert len({resource for _, resource, _ in receiver.store.events}) == 2  # one per payment, by firmRootId
    assert set(receiver.store.current.values()) == {"COMPLETED"}
