"""The outcome of one run of a `conformance` command in a test (importable from any test package)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Run:
    """Exit code, output, and the report the run left."""

    code: int
    out: str
    err: str
    report_dir: Path

    @property
    def certification(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "certification.json").read_text())

    def failed_rules(self) -> set[str]:
        """Rules failed at level must (what makes the verdict)."""
        return {failure["rule_id"] for failure in self.certification["failures"] if failure["severity"] == "must"}

    def warned_rules(self) -> set[str]:
        """Rules failed at level should (warnings)."""
        return {failure["rule_id"] for failure in self.certification["failures"] if failure["severity"] == "should"}
