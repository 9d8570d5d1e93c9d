"""`python -m conformance` is the `conformance` command."""

from .cli import entry_point

entry_point()
