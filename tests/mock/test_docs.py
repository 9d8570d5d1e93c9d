"""docs/mock.md stays in step with the rules tables and the fault catalogue."""

from __future__ import annotations

from pathlib import Path

from mock_support import spec

from conformance import SPEC_NAMES
from conformance.mock import FAULTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "mock.md"


def test_every_scenario_and_fault_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for name in SPEC_NAMES:
        for row in spec(name).rules.scenarios:
            if row.id.startswith("OP-SCENARIO-HTTP-"):
                continue  # documented as one row, OP-SCENARIO-HTTP-400 ... OP-SCENARIO-HTTP-504
            assert f"`{row.id}`" in text, row.id
    for fault in FAULTS.values():
        assert f"| `{fault.name}` | {fault.api} | `{fault.rule}` |" in text, fault.name
    for endpoint in ("/_mock/callback-url", "/_mock/callbacks", "/_mock/faults", "/_mock/journal"):
        assert endpoint in text
