"""The embedded mock provider: the three Payments APIs and their token endpoint on one local origin.

It behaves like the provider's mock environment (scenario triggers, state, callbacks with retries)
and runs on any machine without network, and it can be made to break one documented rule at a
time (`FAULTS`), so that certification can prove each check catches its misbehaviour.

    from conformance.mock import MockServer

    with MockServer(port=0, faults=("op-over-refund-accepted",)) as mock:
        mock.token_url, mock.base_url("online-payments")

Everything API-specific comes from specs/ and the rules tables; see docs/mock.md.
"""

from ..serving import ServerLimits
from ._callbacks import DeliveryLimits, RetryPolicy
from ._faults import FAULTS, Fault
from ._server import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockServer

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "FAULTS", "DeliveryLimits", "Fault", "MockServer",
           "RetryPolicy", "ServerLimits"]
