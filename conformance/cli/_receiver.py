"""`conformance receiver`: run the reference callback receiver (examples/receiver.py), installed or not.

The receiver is example code meant to be copied, so it stays one file in examples/; the wheel carries
that file as conformance/_bundled_examples/receiver.py, and this command runs whichever copy is there.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

HELP = "Run the reference callback receiver (examples/receiver.py), to compare yours with or to copy."


def receiver_file() -> Path:
    """The reference receiver: the checkout's examples/receiver.py, else the wheel's copy."""
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "examples" / "receiver.py"
    return checkout if checkout.is_file() else package / "_bundled_examples" / "receiver.py"


@cache
def _reference() -> ModuleType:
    path = receiver_file()
    spec = importlib.util.spec_from_file_location("conformance_reference_receiver", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with the package
        raise ImportError(f"no reference receiver at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _reference().add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return _reference().run(args)
