"""Every scenario trigger of the rules tables yields its documented answer and callbacks."""

import pytest

from ._flows import scenario

pytestmark = pytest.mark.scenarios


def test_scenario(conformance, api, scenario_id):
    """Drive the trigger (after its `given`), judge the answer, the callbacks in order, and the state reached."""
    scenario(conformance, api, scenario_id)
