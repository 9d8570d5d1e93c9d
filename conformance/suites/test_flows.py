"""Stateful flows: a follow-up on a resource already in a final state leaves it there."""

import pytest

from ._flows import final_state_holds, read_your_writes

pytestmark = pytest.mark.flows


def test_final_state_holds(conformance, api, follow_up):
    """Run the follow-up scenario (capture, void, ...) twice; the second may be refused but never moves the state."""
    final_state_holds(conformance, api, follow_up)


def test_read_your_writes(conformance, api, readable_create):
    """Create a resource with the canonical request, then read it back by the identity its answer gave."""
    read_your_writes(conformance, api, readable_create)
