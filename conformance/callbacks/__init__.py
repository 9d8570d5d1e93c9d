"""The callback sender: `conformance callbacks` plays the provider against an integrator's receiver.

It sends every callback the specs define (drawn from the callback strategies), for every status,
then duplicates, out-of-order statuses, unknown fields and malformed input, and judges each answer
under a stable receiver rule ID ({P}-RECEIVER-...; catalogue in specs/README.md). The callbacks the
provider sends to *us* during `certify` are the sink's job (conformance.sink), not this package's.

    from conformance.callbacks import Sender, TLSOptions, check_receiver, profile
"""

from ._checks import CHECKS, receiver_check
from ._profiles import PROFILES, Profile, profile
from ._rules import RULES, ReceiverRule
from ._run import check_receiver
from ._sender import Delivery, Sender, TLSOptions
from ._webhooks import StateMachine, Webhook, webhooks

__all__ = [
    "CHECKS",
    "PROFILES",
    "RULES",
    "Delivery",
    "Profile",
    "ReceiverRule",
    "Sender",
    "StateMachine",
    "TLSOptions",
    "Webhook",
    "check_receiver",
    "profile",
    "receiver_check",
    "webhooks",
]
