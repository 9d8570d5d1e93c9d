"""payments-conformance: contract tests for the J.P. Morgan Payments APIs and their callbacks.

The public surface is small; everything else is private (leading underscore) or a subpackage
with its own docstring (`conformance.mock`, `conformance.suites`).
"""

from ._errors import (
    EXIT_NONCONFORMANT,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConformanceError,
    SpecError,
    TargetUnreachable,
    UsageError,
)
from ._specs import SPEC_NAMES, Finding, Operation, Rules, Spec, load_all, load_spec, specs_dir

__version__ = "0.1.0"

__all__ = [
    "EXIT_NONCONFORMANT",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "SPEC_NAMES",
    "ConformanceError",
    "Finding",
    "Operation",
    "Rules",
    "Spec",
    "SpecError",
    "TargetUnreachable",
    "UsageError",
    "load_all",
    "load_spec",
    "specs_dir",
    "__version__",
]
