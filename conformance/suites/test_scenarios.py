"""Every scenario trigger of the rules tables yields its documented answer and callbacks."""

import pytest

from ._flows import scenario
from ._requests import NotDrivable

pytestmark = pytest.mark.scenarios


def test_scenario(conformance, api, scenario_id):
    """Drive the trigger (after its `given`), judge the answer, the callbacks in order, and the state reached."""
    try:
        scenario(conformance, api, scenario_id)
    except NotDrivable as reason:
        pytest.skip(f"{scenario_id}: {reason}")
