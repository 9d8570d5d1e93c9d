"""Writing report files so that a reader never sees half of one.

A report is written to a temporary file in the same directory and renamed over the old one
(os.replace is atomic on POSIX and Windows), so an interruption leaves the previous file or
the new one, never a torn one. callbacks.ndjson is appended one whole line per write(2) on an
O_APPEND descriptor, so lines from several processes (pytest-xdist workers) never interleave.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) in one step; on any error the old file is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def append_line(path: Path, line: str) -> None:
    """Append one line, durably and in a single write, creating the file if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(descriptor, data)
        while written < len(data):  # a short write is rare on regular files; finish the line
            written += os.write(descriptor, data[written:])
    finally:
        os.close(descriptor)
