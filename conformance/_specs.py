"""Loading specs and their rules tables: the one piece the mock and the checks share.

A spec is named ("pay-by-bank") or given by path. Loading parses the YAML, validates the document
against the OpenAPI 3.1 meta-schema and its rules table against specs/rules.schema.yaml, and
offers the three views later code needs: the raw document, jsonschema validators that honour
readOnly/writeOnly, and a Schemathesis schema. Any problem is a SpecError naming the file.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ._errors import SpecError
from .formats import format_checker

Direction = Literal["request", "response"]

TOKEN_ENDPOINT_ROLE = "token-endpoint"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def specs_dir() -> Path:
    """Where bundled specs live: $CONFORMANCE_SPECS_DIR, the checkout's specs/, or the wheel's copy."""
    override = os.environ.get("CONFORMANCE_SPECS_DIR")
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parent.parent / "specs"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parent / "_bundled_specs"


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a directory, not a spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{path}: YAML syntax error{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: YAML error: {exc}") from None


def _validate_openapi(path: Path, document: Any) -> None:
    if not isinstance(document, dict):
        raise SpecError(f"{path}: not an OpenAPI document (top level is not a mapping)")
    version = str(document.get("openapi", ""))
    if not version.startswith("3.1"):
        raise SpecError(f"{path}: invalid OpenAPI document: 'openapi' must be 3.1.x, found {version or 'nothing'!r}")
    from openapi_spec_validator import OpenAPIV31SpecValidator

    error = next(iter(OpenAPIV31SpecValidator(document).iter_errors()), None)
    if error is not None:
        where = "/".join(str(p) for p in getattr(error, "absolute_path", ())) or "(root)"
        message = str(error.message).strip().splitlines()[0]
        raise SpecError(f"{path}: invalid OpenAPI 3.1 document at {where}: {message}")


def _strip(node: Any, flag: str) -> Any:
    """Drop every property marked `flag` (readOnly/writeOnly) from properties and required lists."""
    if isinstance(node, list):
        return [_strip(item, flag) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _strip(value, flag) for key, value in node.items()}
    properties = result.get("properties")
    if isinstance(properties, dict):
        dropped = {name for name, schema in properties.items() if isinstance(schema, dict) and schema.get(flag) is True}
        if dropped:
            result["properties"] = {k: v for k, v in properties.items() if k not in dropped}
            if isinstance(result.get("required"), list):
                result["required"] = [name for name in result["required"] if name not in dropped]
    return result


@dataclass(frozen=True)
class Operation:
    """One operation (or webhook) of a spec, by its operationId."""

    operation_id: str
    method: str
    path: str
    pointer: str
    """JSON pointer of the operation object in the document."""
    webhook: str | None = None
    """The webhook name when this is a callback the provider sends, else None."""


@dataclass(frozen=True, eq=False)
class Spec:
    """A loaded, validated spec with its rules table."""

    name: str
    path: Path
    document: dict[str, Any]
    rules: dict[str, Any]
    sha256: str
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def base_path(self) -> str:
        """The path every operation hangs under, from servers[0].url ("/api/v2"; "" for "/")."""
        servers = self.document.get("servers") or [{"url": "/"}]
        return servers[0]["url"].rstrip("/")

    @property
    def prefix(self) -> str:
        """The rule-ID prefix of this API (OP, GP, PBB, OAUTH)."""
        return self.rules["prefix"]

    @cached_property
    def operations(self) -> dict[str, Operation]:
        """Every operation and webhook by operationId, in document order."""
        found: dict[str, Operation] = {}
        for section, webhook in (("paths", False), ("webhooks", True)):
            for key, item in (self.document.get(section) or {}).items():
                for method in HTTP_METHODS:
                    operation = item.get(method)
                    if not isinstance(operation, dict) or "operationId" not in operation:
                        continue
                    escaped = key.replace("~", "~0").replace("/", "~1")
                    found[operation["operationId"]] = Operation(
                        operation_id=operation["operationId"],
                        method=method.upper(),
                        path=key if not webhook else "",
                        pointer=f"/{section}/{escaped}/{method}",
                        webhook=key if webhook else None,
                    )
        return found

    def resolve(self, pointer: str) -> Any:
        """The node at a JSON pointer ("#/components/..." or "/paths/..."), following $refs on the way."""
        node: Any = self.document
        for part in pointer.lstrip("#").strip("/").split("/") if pointer.strip("#/") else []:
            node = self._deref(node)
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise SpecError(f"{self.path}: no node at {pointer}") from None
        return self._deref(node)

    def _deref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            node = self.resolve(node["$ref"]) if seen < 32 else node
            seen += 1
        return node

    def _registry(self, direction: Direction) -> Registry:
        key = f"registry:{direction}"
        if key not in self._cache:
            flag = "writeOnly" if direction == "response" else "readOnly"
            contents = _strip(copy.deepcopy(self.document), flag)
            resource = Resource(contents=contents, specification=DRAFT202012)
            self._cache[key] = Registry().with_resource(self.uri, resource)
        return self._cache[key]

    @property
    def uri(self) -> str:
        return f"urn:payments-conformance:spec:{self.name}"

    def validator(self, pointer: str, direction: Direction = "response") -> Draft202012Validator:
        """A jsonschema validator for the schema at `pointer`, honouring readOnly/writeOnly for `direction`.

        For a response, writeOnly properties (a card's PAN) are neither expected nor required; for a
        request, readOnly ones are. Formats are checked, the payment-domain ones included.
        """
        key = f"validator:{direction}:{pointer}"
        if key not in self._cache:
            self.resolve(pointer)  # fail early, naming the file, when the pointer is wrong
            ref = {"$ref": f"{self.uri}#{pointer.lstrip('#')}"}
            self._cache[key] = Draft202012Validator(
                ref, registry=self._registry(direction), format_checker=format_checker()
            )
        return self._cache[key]

    def schemathesis(self, base_url: str | None = None):
        """This spec as a Schemathesis schema (loaded from the same document, so both agree)."""
        import schemathesis

        schema = schemathesis.openapi.from_dict(copy.deepcopy(self.document))
        if base_url is not None:
            schema.config.update(base_url=base_url)
        return schema

    def examples(self, operation_id: str) -> dict[str, Any]:
        """The request-body examples of an operation or webhook, by example name."""
        operation = self.resolve(self.operations[operation_id].pointer)
        content = self._deref(operation.get("requestBody", {})).get("content", {})
        for media in content.values():
            return {name: self._deref(example)["value"] for name, example in (media.get("examples") or {}).items()}
        return {}


@cache
def _rules_schema() -> dict[str, Any]:
    """The schema of rules tables; always the bundled one, so a user's spec elsewhere is judged the same."""
    return _read_yaml(specs_dir() / "rules.schema.yaml")


def _load_rules(spec_path: Path, name: str) -> dict[str, Any]:
    rules_path = spec_path.with_name(f"{name}.rules.yaml")
    if not rules_path.exists():
        raise SpecError(f"{rules_path}: file not found (every spec needs a rules table beside it)")
    rules = _read_yaml(rules_path)
    schema = _rules_schema()
    error = best_match(Draft202012Validator(schema).iter_errors(rules))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise SpecError(f"{rules_path}: invalid rules table at {where}: {error.message}")
    return rules


def _name_of(path: Path) -> str:
    return path.name.removesuffix(".yaml").removesuffix(".yml")


def load_spec(name_or_path: str | os.PathLike[str]) -> Spec:
    """Load a spec by bundled name ("pay-by-bank") or by path, validated, with its rules table.

    Raises SpecError, one line naming the file, when the file is missing, is not YAML, is not a
    valid OpenAPI 3.1 document, or its rules table is missing or invalid.
    """
    text = os.fspath(name_or_path)
    path = Path(text) if ("/" in text or text.endswith((".yaml", ".yml"))) else specs_dir() / f"{text}.yaml"
    try:
        files = (path, path.with_name(f"{_name_of(path)}.rules.yaml"))
        stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        stamp = None  # let _load say what is wrong with the file
    return _load(path, stamp)


@cache
def _load(path: Path, stamp: object) -> Spec:
    """Load once per file version: the mock, the checks and the CLI ask for the same specs many times."""
    document = _read_yaml(path)
    _validate_openapi(path, document)
    name = _name_of(path)
    rules = _load_rules(path, name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Spec(name=name, path=path, document=document, rules=rules, sha256=digest)


def load_all(names: tuple[str, ...] | None = None) -> list[Spec]:
    """Every bundled spec (or the named ones), loaded and validated."""
    return [load_spec(name) for name in names or SPEC_NAMES]


def iter_spec_files(directory: Path | None = None) -> Iterator[Path]:
    """The spec files in a directory (rules tables and the rules schema left out)."""
    directory = directory or specs_dir()
    for path in sorted(directory.glob("*.yaml")):
        if not path.name.endswith(".rules.yaml") and path.name != "rules.schema.yaml":
            yield path


def _role(spec_path: Path) -> str:
    """A spec's role from its rules table, read cheaply (no validation: load_spec does that)."""
    try:
        rules = yaml.load(spec_path.with_name(f"{_name_of(spec_path)}.rules.yaml").read_text(), _FAST_LOADER)
    except (OSError, yaml.YAMLError):
        return "api"
    return rules.get("role", "api") if isinstance(rules, dict) else "api"


def _bundled_names() -> tuple[str, ...]:
    """Every spec file in specs/: the token endpoint first (others need its tokens), then by name.

    Derived from the folder, so that adding an API is adding a spec and its rules table, not code.
    """
    paths = list(iter_spec_files())
    return tuple(_name_of(p) for p in sorted(paths, key=lambda p: (_role(p) != TOKEN_ENDPOINT_ROLE, p.name)))


def token_spec_name(names: tuple[str, ...] | None = None) -> str | None:
    """The bundled spec whose rules table says it is the token endpoint."""
    for name in names or SPEC_NAMES:
        if _role(specs_dir() / f"{name}.yaml") == TOKEN_ENDPOINT_ROLE:
            return name
    return None


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SPEC_NAMES: tuple[str, ...] = _bundled_names()
"""The bundled specs, in the order a run takes them (the token endpoint first)."""
