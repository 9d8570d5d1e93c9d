"""The client rules table (specs/client.rules.yaml), typed: the rules, the injected troubles, the profiles.

`conformance client` and the `payments_mock` fixture judge an integration's own HTTP traffic. What they
judge (rule suffixes and their parameters), what trouble they inject and how a profile schedules it
is data, validated against specs/client.rules.schema.json and parsed here once; the judging functions
(conformance/checks/_client.py) and the proxy that injects trouble (conformance/client) read this model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .._errors import SpecError
from . import _yaml
from ._load import specs_dir

TABLE_FILE = "client.rules.yaml"
SCHEMA_FILE = "client.rules.schema.json"


@dataclass(frozen=True)
class ClientRule:
    """One client rule: `{P}-<suffix>` for each API, with the parameters its judging function reads."""

    suffix: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def id(self, prefix: str) -> str:
        return f"{prefix}-{self.suffix}"


@dataclass(frozen=True)
class Action:
    """What the proxy does to a request a trouble lands on (client.rules.yaml explains each field)."""

    forward: bool = True
    status: int | None = None
    retry_after_seconds: float | None = None
    drop: bool = False
    hold_seconds: float | None = None
    revoke: bool = False
    scenario: bool = False
    exclude_statuses: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The action as the report lists it (only what it does)."""
        found: dict[str, Any] = {"forward": self.forward}
        for name in ("status", "retry_after_seconds", "hold_seconds"):
            if getattr(self, name) is not None:
                found[name] = getattr(self, name)
        for name in ("drop", "revoke", "scenario"):
            if getattr(self, name):
                found[name] = True
        return found


@dataclass(frozen=True)
class TroubleKind:
    kind: str
    description: str
    lands_on: str
    """create, request or secured: which requests it may land on."""
    action: Action


@dataclass(frozen=True)
class ClientProfile:
    name: str
    troubles: Mapping[str, int]
    """Trouble kind -> how many of it a run gets."""
    spread: int
    token_ttl: float
    actions: Mapping[str, Action]
    """Trouble kind -> its action in this profile (the table's, with the profile's overrides)."""


@dataclass(frozen=True)
class ClientRules:
    rules: tuple[ClientRule, ...]
    troubles: Mapping[str, TroubleKind]
    profiles: Mapping[str, ClientProfile]
    path: Path | None = None

    def rule(self, suffix: str) -> ClientRule:
        for rule in self.rules:
            if rule.suffix == suffix:
                return rule
        raise KeyError(suffix)

    def parameter(self, suffix: str, name: str) -> Any:
        return self.rule(suffix).parameters[name]

    def profile(self, name: str) -> ClientProfile:
        if name not in self.profiles:
            from .._errors import UsageError

            raise UsageError(f"unknown profile {name!r} (choose from {', '.join(self.profiles)})")
        return self.profiles[name]


def _action(data: Mapping[str, Any]) -> Action:
    answer = data.get("answer") or {}
    scenario = data.get("scenario")
    return Action(
        forward=bool(data.get("forward", True)),
        status=answer.get("status"),
        retry_after_seconds=answer.get("retry_after_seconds"),
        drop=bool(data.get("drop", False)),
        hold_seconds=data.get("hold_seconds"),
        revoke=bool(data.get("revoke", False)),
        scenario=scenario is not None,
        exclude_statuses=tuple((scenario or {}).get("exclude_statuses") or ()),
    )


@cache
def _schema_validator() -> Draft202012Validator:
    text = _yaml.read_text(specs_dir() / SCHEMA_FILE, "JSON Schema")
    return Draft202012Validator(json.loads(text))


def parse_client_rules(table: Any, path: Path | None = None) -> ClientRules:
    """A client rules table (already read) as ClientRules; SpecError when it breaks its schema or itself."""
    where = path or TABLE_FILE
    error = next(iter(sorted(_schema_validator().iter_errors(table), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        place = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise SpecError(f"{where}: invalid client rules table at {place}: {error.message}")
    raw_troubles = {row["kind"]: row for row in table["troubles"]}
    troubles = {kind: TroubleKind(kind, row["description"], row["lands_on"], _action(row["action"]))
                for kind, row in raw_troubles.items()}
    profiles = {}
    for name, row in table["profiles"].items():
        unknown = sorted((set(row["troubles"]) | set(row.get("actions") or {})) - set(troubles))
        if unknown:
            raise SpecError(f"{where}: profile {name} names unknown troubles: {', '.join(unknown)}")
        actions = {}
        for kind, trouble in raw_troubles.items():
            merged = {**trouble["action"], **((row.get("actions") or {}).get(kind) or {})}
            actions[kind] = _action(merged)
        profiles[name] = ClientProfile(name, dict(row["troubles"]), int(row["spread"]), float(row["token_ttl"]),
                                       actions)
    rules = tuple(ClientRule(row["suffix"], " ".join(row["description"].split()), dict(row.get("parameters") or {}))
                  for row in table["rules"])
    return ClientRules(rules, troubles, profiles, path)


def load_client_rules(path: str | Path | None = None) -> ClientRules:
    """specs/client.rules.yaml (or the table at `path`), validated and typed."""
    where = Path(path) if path is not None else specs_dir() / TABLE_FILE
    return _load(where.resolve())


@cache
def _load(path: Path) -> ClientRules:
    return parse_client_rules(_yaml.read(path, "client rules table"), path)
