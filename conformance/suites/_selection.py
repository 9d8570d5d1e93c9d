"""What a run includes: `--include` / `--exclude` globs over APIs, suites, operations, scenarios and rule IDs.

A glob is matched (case-sensitively, `fnmatch` style) against every name the run knows: API names, suite
names, each test's names (its operation, scenario, idempotency rule or credential kind) and rule IDs.
A glob that matches nothing is a usage error, as is a selection that leaves no test.

- Tests: a test runs unless an `--exclude` glob matches its API, suite or one of its names. With
  `--include`, it runs only if an include glob matches its API, suite or one of its names, or if an
  include glob that names only rules (`OP-REFUNDS-*`) names a rule of its API.
- Rules: with an `--include` glob that matches rule IDs, only the rules such globs match are judged and
  reported; an `--exclude` glob matching a rule ID leaves that rule out. Results of other rules are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from .._errors import UsageError


@dataclass(frozen=True)
class SuiteTest:
    """One suite test, as the filters see it."""

    api: str
    suite: str
    value: str
    """The test's parameter (an operation, a scenario, "RULE:operation", a credential kind)."""
    names: frozenset[str]
    """Every name the test answers to: its parameter and the operations and rules it concerns."""

    def facets(self) -> frozenset[str]:
        return self.names | {self.api, self.suite}


@dataclass(frozen=True)
class Selection:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rule_apis: dict[str, frozenset[str]] = field(default_factory=dict)
    """Include globs that name only rules -> the APIs whose rules they name (settled by `settle`)."""
    rules_named: bool = False
    """Whether an include glob names rules (then only those rules are judged)."""

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude)

    def settle(self, tests: Iterable[SuiteTest], rules: dict[str, Iterable[str]]) -> Selection:
        """Check every glob against the run's names (one that matches nothing is exit 2); learn what each names."""
        tests = list(tests)
        test_facets = set().union(*(test.facets() for test in tests)) if tests else set()
        rule_ids = {api: set(ids) for api, ids in rules.items()}
        every_rule = set().union(*rule_ids.values()) if rule_ids else set()
        rule_apis: dict[str, frozenset[str]] = {}
        rules_named = False
        for flag, globs in (("--include", self.include), ("--exclude", self.exclude)):
            for glob in globs:
                on_tests = any(fnmatchcase(name, glob) for name in test_facets)
                on_rules = any(fnmatchcase(rule, glob) for rule in every_rule)
                if not on_tests and not on_rules:
                    raise UsageError(f"{flag} {glob!r} matches no API, suite, operation, scenario or rule of this "
                                     "run (`conformance certify --dry-run` lists them)")
                if flag == "--include" and on_rules:
                    rules_named = True
                    if not on_tests:
                        rule_apis[glob] = frozenset(api for api, ids in rule_ids.items()
                                                    if any(fnmatchcase(rule, glob) for rule in ids))
        settled = Selection(self.include, self.exclude, rule_apis, rules_named)
        if tests and not any(settled.runs(test) for test in tests):
            raise UsageError("--include/--exclude leave no test to run")
        return settled

    def runs(self, test: SuiteTest) -> bool:
        facets = test.facets()
        if any(fnmatchcase(name, glob) for glob in self.exclude for name in facets):
            return False
        if not self.include:
            return True
        for glob in self.include:
            if glob in self.rule_apis:
                if test.api in self.rule_apis[glob]:
                    return True
            elif any(fnmatchcase(name, glob) for name in facets):
                return True
        return False

    def judges(self, rule_id: str) -> bool:
        if any(fnmatchcase(rule_id, glob) for glob in self.exclude):
            return False
        if not self.rules_named:
            return True
        return any(fnmatchcase(rule_id, glob) for glob in self.include)

    def to_dict(self) -> dict[str, object]:
        return {"include": list(self.include), "exclude": list(self.exclude),
                "rule_apis": {glob: sorted(apis) for glob, apis in self.rule_apis.items()},
                "rules_named": self.rules_named}

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> Selection:
        if not data:
            return cls()
        return cls(tuple(data["include"]), tuple(data["exclude"]),  # type: ignore[arg-type]
                   {glob: frozenset(apis) for glob, apis in data["rule_apis"].items()},  # type: ignore[union-attr]
                   bool(data["rules_named"]))
