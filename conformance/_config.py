"""The config file: options a project keeps beside its code instead of repeating them on every command line.

Where it is found: `--config PATH` (a `conformance.toml`, or a `pyproject.toml` whose `[tool.conformance]`
is read), else `conformance.toml` in the current directory, else `[tool.conformance]` in `./pyproject.toml`,
else nowhere (no config). Its keys are the option names without dashes (`_options.OPTIONS`):

    # conformance.toml (or the same under [tool.conformance] in pyproject.toml)
    origin = "https://api-mock.payments.jpmorgan.com"
    profile = "standard"
    api = ["pay-by-bank"]
    rate-limit = 5
    exclude = ["OP-REFUNDS-*"]

    [callbacks]              # `conformance callbacks` (top-level keys are certify's, and the plugin's)
    target = "https://receiver.example.com/callbacks/{webhook}"
    deadline = 3

    [client]                 # `conformance client`
    profile = "standard"
    api = ["pay-by-bank"]

A flag given on the command line wins over the file. An unknown key, a value of the wrong kind or out
of range, or a file that is not TOML is a usage error (exit 2) naming the file and the key.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import UsageError
from ._options import config_keys, deprecated_notes, settle

FILE_NAME = "conformance.toml"
SECTIONS = {"callbacks": "callbacks", "client": "client"}
"""Tables of the config, by name, and the command each configures; top-level keys configure certify."""


@dataclass(frozen=True)
class Config:
    """What a config file says, by command; `source` names it in messages (None: no config file)."""

    source: str | None = None
    top: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def values_for(self, command: str) -> dict[str, Any]:
        """The file's values for one command (certify and the pytest plugin read the top level)."""
        if command in ("certify", "pytest"):
            return dict(self.top)
        return dict(self.tables.get(command, {}))

    def where(self, key: str, command: str) -> str:
        table = "" if command in ("certify", "pytest") else f"[{command}] "
        return f"{self.source}: {table}{key}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"config file {path} not found") from None
    except OSError as exc:
        raise UsageError(f"config file {path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def _section(path: Path, document: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if path.name == "pyproject.toml":
        tool = document.get("tool")
        section = tool.get("conformance") if isinstance(tool, dict) else None
        if section is None:
            return None
        if not isinstance(section, dict):
            raise UsageError(f"{path}: [tool.conformance] must be a table")
        return f"{path} [tool.conformance]", section
    return str(path), document


def find_config(path: str | None = None, directory: Path | None = None) -> Config:
    """The config in force: the file given, else conformance.toml here, else [tool.conformance] in pyproject.toml."""
    directory = directory or Path.cwd()
    if path is not None:
        given = Path(path)
        found = _section(given, _read_toml(given))
        if found is None:
            raise UsageError(f"{given}: no [tool.conformance] table")
        return _checked(*found)
    if (directory / FILE_NAME).is_file():
        return _checked(*_section(directory / FILE_NAME, _read_toml(directory / FILE_NAME)))  # type: ignore[misc]
    if (directory / "pyproject.toml").is_file():
        found = _section(directory / "pyproject.toml", _read_toml(directory / "pyproject.toml"))
        if found is not None:
            return _checked(*found)
    return Config()


def _checked(source: str, content: dict[str, Any]) -> Config:
    """Unknown keys are errors here, before any command runs; values are checked by the options that take them."""
    top: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {}
    certify_keys = config_keys("certify")
    for key, value in content.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise UsageError(f"{source}: [{key}] must be a table")
            known = config_keys(SECTIONS[key])
            for inner in value:
                if inner not in known:
                    raise UsageError(f"{source}: unknown key {inner!r} in [{key}] "
                                     f"(known: {', '.join(sorted(known))})")
            tables[SECTIONS[key]] = dict(value)
        elif key in certify_keys:
            top[key] = value
        else:
            hint = next((f"; it is a `{command}` option: put it under [{table}]"
                         for table, command in SECTIONS.items() if key in config_keys(command)), "")
            raise UsageError(f"{source}: unknown key {key!r}{hint or ' (keys are the option names without dashes)'}")
    return Config(source, top, tables)


def settled(args: argparse.Namespace, command: str) -> argparse.Namespace:
    """A command's parsed arguments with the config file and the defaults filled in (flags win).

    Prints a one-line note for each deprecated spelling used."""
    for note in deprecated_notes(args):
        sys.stderr.write(note + "\n")
    given = vars(args)
    values = settle(given, command, find_config(given.get("config")))
    return argparse.Namespace(**{**given, **values})
