"""Every option of the run commands, declared once: argparse, the pytest plugin and the config file read this table.

An Option names its flag, the commands that take it, how a value is read and checked, its default and
its help. `add_arguments(parser, command)` builds argparse arguments, `add_pytest_options(group)` the
plugin's (`pytest` is a command here: the plugin runs certify's suites), and `settle(given, command,
config)` gives every option of a command its value: the command line first, then the config file
(`_config.py`), then the default. A value from either place goes through the same check, so
`--request-timeout nan`, `rate-limit = -5` in the config and `--deadline inf` are each one line, exit 2.

Names follow the command line; the config file uses the same names without the dashes. Where the CLI and
the plugin had drifted apart, the one name now is `--seed` and `--request-timeout`; the old spellings
(`--conformance-seed`, `--timeout`) are accepted as deprecated aliases.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import UsageError

PROFILE_NAMES = ("quick", "standard", "thorough")


class Invalid(ValueError):
    """A value an option does not take; the message says what it takes."""


@dataclass(frozen=True)
class Number:
    """A finite number within bounds (an integer when `integer`)."""

    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    """An exclusive lower bound (`above=0`: positive)."""
    integer: bool = False

    def __call__(self, value: Any) -> int | float:
        kind = "a whole number" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise Invalid(f"takes {kind}{self._range()}, not {value!r}")
        try:
            number = (int(value) if isinstance(value, int) else int(str(value).strip(), 10)) if self.integer \
                else float(value)
        except ValueError:
            raise Invalid(f"takes {kind}{self._range()}, not {value!r}") from None
        if not math.isfinite(number):
            raise Invalid(f"takes a finite number{self._range()}, not {value!r}")
        too_low = (self.minimum is not None and number < self.minimum) or \
            (self.above is not None and number <= self.above)
        if too_low or (self.maximum is not None and number > self.maximum):
            raise Invalid(f"takes {kind}{self._range()}, not {value!r}")
        return number

    def _range(self) -> str:
        def shown(bound: float) -> str:
            return f"{bound:g}" if isinstance(bound, float) else str(bound)

        if self.above is not None:
            return f" above {shown(self.above)}" + (f" and at most {shown(self.maximum)}" if self.maximum is not None
                                                    else "")
        if self.minimum is not None and self.maximum is not None:
            return f" from {shown(self.minimum)} to {shown(self.maximum)}"
        if self.minimum is not None:
            return f" of at least {shown(self.minimum)}"
        return f" of at most {shown(self.maximum)}" if self.maximum is not None else ""


def text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"takes a non-empty text, not {value!r}")
    return value


SECONDS = Number(above=0, maximum=86_400)
"""A duration: positive, finite, at most a day."""
SEED = Number(minimum=0, maximum=2**63 - 1, integer=True)
PORT = Number(minimum=0, maximum=65_535, integer=True)


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    commands: tuple[str, ...]
    parse: Callable[[Any], Any] = text
    """Reads one value (command-line text or a config value) and checks it; raises Invalid."""
    default: Any = None
    metavar: str | None = None
    repeat: bool = False
    """Given any number of times (a list in the config file)."""
    switch: bool = False
    """On when given (true/false in the config file)."""
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """Deprecated spellings, still accepted."""
    required: bool = False
    """Must come from the command line or the config file."""
    in_config: bool = True

    @property
    def key(self) -> str:
        """The name in the config file."""
        return self.flag.lstrip("-")

    @property
    def dest(self) -> str:
        return self.key.replace("-", "_")

    def read(self, value: Any, where: str) -> Any:
        """One value as the command takes it (from the command line or the config), or a UsageError."""
        try:
            if self.switch:
                if not isinstance(value, bool):
                    raise Invalid(f"takes true or false, not {value!r}")
                return value
            if self.repeat:
                values = [value] if isinstance(value, str) else value
                if not isinstance(values, list):
                    raise Invalid(f"takes a list of values, not {value!r}")
                return [self._one(item) for item in values]
            return self._one(value)
        except Invalid as exc:
            raise UsageError(f"{where} {exc}") from None

    def _one(self, value: Any) -> Any:
        value = self.parse(value)
        if self.choices and value not in self.choices:
            raise Invalid(f"takes one of {', '.join(self.choices)}, not {value!r}")
        return value


_CERTIFY = ("certify", "pytest")

OPTIONS: tuple[Option, ...] = (
    # -- certify (and its suites under plain pytest) -----------------------------------------------------
    Option("--origin", "the provider's origin; each spec's base path is applied to it (default: the embedded mock)",
           _CERTIFY, metavar="URL"),
    Option("--base-url", "the base URL of one API, overriding --origin for it (repeatable)", _CERTIFY,
           metavar="API=URL", repeat=True, default=()),
    Option("--token-url", "the OAuth token endpoint (default: the oauth spec's path on --origin)", _CERTIFY,
           metavar="URL"),
    Option("--api", "certify only this API (repeatable; default: every spec)", _CERTIFY, metavar="NAME", repeat=True,
           default=()),
    Option("--spec", "use your copy of a spec (NAME=PATH, or a PATH the API is told from; its rules table beside "
           "it) instead of the bundled one (repeatable)", _CERTIFY, metavar="[NAME=]PATH", repeat=True, default=()),
    Option("--profile", "quick, standard or thorough: examples, request budget, rate limit, timeouts (default quick)",
           _CERTIFY, choices=PROFILE_NAMES, default="quick"),
    Option("--seed", "seed for generated data (default: random, reported)", _CERTIFY, SEED, metavar="N",
           aliases=("--conformance-seed",)),
    Option("--workers", "run the suites in N processes (pytest-xdist; default 1)", ("certify",),
           Number(minimum=1, maximum=64, integer=True), default=1, metavar="N"),
    Option("--callback-listen", "receive the provider's callbacks here, at http://HOST:PORT/$CONFORMANCE_SINK_TOKEN/"
           "{api}/{webhook} (automatic with the embedded mock, and with an --origin that is a `conformance mock`)",
           _CERTIFY, metavar="HOST:PORT"),
    Option("--report-dir", "where the report goes (default reports)", ("certify", "pytest", "callbacks", "client"),
           default="reports", metavar="DIR"),
    Option("--rate-limit", "requests per second against --origin (default: the profile's; 0: no limit)", _CERTIFY,
           Number(minimum=0, maximum=100_000), metavar="RPS"),
    Option("--wrong-scope", "a scope the token endpoint issues that the APIs must refuse (wrong-scope test)", _CERTIFY,
           metavar="SCOPE"),
    Option("--fault", "switch on a fault of the embedded mock, to see the run catch it (`conformance faults`)",
           _CERTIFY, metavar="NAME", repeat=True, default=()),
    Option("--request-timeout", "seconds to wait for any answer (default: the profile's)", _CERTIFY, SECONDS,
           metavar="SECONDS", aliases=("--timeout",)),
    Option("--callback-timeout", "seconds to wait for a scenario's callbacks, and for the retries of a refused one "
           "(default: the profile's; a sandbox's callbacks usually come within 30 s)", _CERTIFY, SECONDS,
           metavar="SECONDS"),
    Option("--include", "run only what matches this glob: an API, a suite (generated, scenarios, negative, auth, "
           "idempotency, flows), an operation or scenario, or a rule ID (repeatable)", _CERTIFY, metavar="GLOB",
           repeat=True, default=()),
    Option("--exclude", "leave out what matches this glob (same names as --include; repeatable)", _CERTIFY,
           metavar="GLOB", repeat=True, default=()),
    Option("--exchange-log", "write every exchange, redacted, to FILE (one JSON object per line)",
           (*_CERTIFY, "client"), metavar="FILE", aliases=("--log",)),
    Option("--har", "write every exchange, redacted, to FILE as a HAR 1.2 archive", (*_CERTIFY, "client"),
           metavar="FILE"),
    Option("--verbose", "print every exchange on one line as it happens (redacted)", ("certify",), switch=True,
           default=False),
    Option("--dry-run", "list what would run (suites, operations, rules, request budget) and send nothing",
           ("certify",), switch=True, default=False, in_config=False),
    Option("--quiet", "print only the summary", ("certify", "callbacks", "client"), switch=True, default=False),
    # -- callbacks -------------------------------------------------------------------------------------------
    Option("--api", "the API whose callbacks to send (a bundled spec name or a spec path; or given by --spec)",
           ("callbacks",), metavar="NAME"),
    Option("--spec", "use this document (NAME=PATH, or a PATH the API is told from) for the API instead of the "
           "bundled one", ("callbacks",), metavar="[NAME=]PATH", repeat=True, default=()),
    Option("--target", "your receiver's URL; {webhook} in it is replaced by each callback's name "
           "(e.g. https://host/cb/{webhook})", ("callbacks",), metavar="URL", required=True),
    Option("--client-cert", "client certificate for mutual TLS (may hold the key too)", ("callbacks",), metavar="PEM"),
    Option("--client-key", "its private key, when not in --client-cert", ("callbacks",), metavar="PEM"),
    Option("--ca", "CA bundle to verify the receiver's certificate (default: the system store)", ("callbacks",),
           metavar="PEM"),
    Option("--deadline", "time a receiver has to acknowledge a callback (default 5)", ("callbacks",), SECONDS,
           default=5.0, metavar="SECONDS"),
    Option("--profile", "how many examples to send (default standard)", ("callbacks",), choices=PROFILE_NAMES,
           default="standard"),
    Option("--seed", "seed for the examples, to reproduce a run (default: random, printed)", ("callbacks",), SEED,
           metavar="N"),
    Option("--only", "send just this one callback (a valid body for that status) and show the answer; no report is "
           "written", ("callbacks",), metavar="WEBHOOK:STATUS", in_config=False),
    Option("--body", "with --only: send FILE as the body, byte for byte (a mismatch with the schema is reported, not "
           "fixed)", ("callbacks",), metavar="FILE", in_config=False),
    # -- client ----------------------------------------------------------------------------------------------
    Option("--api", "judge this API (repeatable; default: every API the client calls)", ("client",), metavar="NAME",
           repeat=True, default=()),
    Option("--spec", "use this document (NAME=PATH, or a PATH the API is told from) for its API instead of the "
           "bundled one (repeatable)", ("client",), metavar="[NAME=]PATH", repeat=True, default=()),
    Option("--profile", "how much trouble to inject, and the mock's token lifetime (default quick)", ("client",),
           choices=PROFILE_NAMES, default="quick"),
    Option("--seed", "seed of the trouble schedule (default: random, reported)", ("client",), SEED, metavar="N"),
    Option("--trouble", "inject only troubles of this kind (repeatable): ambiguous-503, dropped-connection, timeout, "
           "rate-limited, token-revoked, decline", ("client",), metavar="KIND", repeat=True, default=()),
    Option("--no-trouble", "inject no trouble (judge the traffic only)", ("client",), switch=True, default=False),
    Option("--upstream", "a sandbox's origin to put the recording proxy in front of (default: the embedded mock)",
           ("client",), metavar="URL"),
    Option("--token-url", "with --upstream: the sandbox's token endpoint", ("client",), metavar="URL"),
    Option("--listen", "where the proxy listens (default 127.0.0.1 and a free port); without a command, judge "
           "whatever arrives until Ctrl-C or --duration", ("client",), metavar="HOST:PORT"),
    Option("--duration", "stop after this long (--listen), or stop a command still running then", ("client",),
           SECONDS, metavar="SECONDS"),
    Option("--callback-url", "where the embedded mock posts its callbacks (your receiver), if anywhere",
           ("client",), metavar="URL"),
    # -- where the options come from -------------------------------------------------------------------------
    Option("--config", "read options from this TOML file (default: ./conformance.toml, else [tool.conformance] in "
           "./pyproject.toml); flags win", ("certify", "pytest", "callbacks", "client"), metavar="PATH",
           in_config=False),
)

PYTEST_FLAGS = {"--config": "--conformance-config"}
"""Plugin spellings that differ: pytest has its own -c/--config-file."""

COMMANDS = ("certify", "pytest", "callbacks", "client")
"""The commands whose options this table declares (and that read the config file)."""


def options_for(command: str) -> list[Option]:
    return [option for option in OPTIONS if command in option.commands]


def argument_type(parse: Callable[[Any], Any]) -> Callable[[str], Any]:
    """An argparse `type` from a value parser: a bad value is argparse's one-line usage error (exit 2).

    For the options of commands outside the table (mock, examples), so their numbers are checked alike."""
    def checked(value: str) -> Any:
        try:
            return parse(value)
        except Invalid as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return checked


def _argparse_type(option: Option) -> Callable[[str], Any]:
    return argument_type(option._one)


class _Deprecated(argparse.Action):
    """Stores like the option it stands for, and remembers that an old spelling was used."""

    def __init__(self, *args: Any, store: argparse.Action, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        self.store(parser, namespace, values, option_string)
        if option_string:
            used = getattr(namespace, "_deprecated", [])
            namespace._deprecated = [*used, (option_string, self.store.option_strings[0])]


def _kind(option: Option) -> dict[str, Any]:
    """The argparse keywords saying how an option's value is read (shared by the CLI and the plugin)."""
    if option.switch:
        return {"action": "store_true"}
    kind: dict[str, Any] = {"type": _argparse_type(option),
                            "metavar": option.metavar or ("{" + ",".join(option.choices) + "}" if option.choices
                                                          else None)}
    if option.repeat:
        kind["action"] = "append"
    return kind


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """argparse arguments for a command. An option not given is absent from the namespace until `settle`."""
    for option in options_for(command):
        kind = _kind(option)
        action = parser.add_argument(option.flag, help=option.help, default=argparse.SUPPRESS, dest=option.dest,
                                     **kind)
        for alias in option.aliases:
            parser.add_argument(alias, dest=option.dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS,
                                type=kind.get("type"), metavar=kind.get("metavar"), action=_Deprecated,
                                store=action)


def add_pytest_options(group: Any) -> None:
    """The plugin's options (pytest --help, "conformance" group): unset ones are None until `settle`."""
    for option in options_for("pytest"):
        flag = PYTEST_FLAGS.get(option.flag, option.flag)
        help_text = option.help + (f" (also {', '.join(option.aliases)}, deprecated)" if option.aliases else "")
        group.addoption(flag, *option.aliases, help=help_text, default=None, dest="conformance_" + option.dest,
                        **_kind(option))


def given_plugin_options(getoption: Callable[[str], Any]) -> dict[str, Any]:
    """What the plugin's options were given as, by dest (None: not given)."""
    return {option.dest: getoption("conformance_" + option.dest) for option in options_for("pytest")}


def settle(given: Mapping[str, Any], command: str, config: Any = None) -> dict[str, Any]:
    """Every option of `command`, by dest: given on the command line, else in the config file, else its default.

    `given` holds what the command line set (absent or None otherwise); `config` is a `_config.Config`."""
    from_file = config.values_for(command) if config is not None else {}
    values: dict[str, Any] = {}
    for option in options_for(command):
        if given.get(option.dest) is not None:
            value = given[option.dest]
            values[option.dest] = list(value) if option.repeat else value
        elif option.key in from_file:
            values[option.dest] = option.read(from_file[option.key], config.where(option.key, command))
        else:
            values[option.dest] = list(option.default) if option.repeat else option.default
        if option.required and values[option.dest] in (None, [], ""):
            raise UsageError(f"{command}: {option.flag} is required (on the command line, or `{option.key}` in the "
                             "config file)")
    return values


def config_keys(command: str) -> set[str]:
    return {option.key for option in options_for(command) if option.in_config}


def deprecated_notes(namespace: argparse.Namespace) -> Iterable[str]:
    """One line per deprecated spelling the command line used."""
    for old, new in dict.fromkeys(getattr(namespace, "_deprecated", [])):
        yield f"conformance: warning: {old} is deprecated; use {new}"
