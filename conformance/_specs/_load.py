"""Loading a spec: the bundled ones by name, anyone's by path, published documents as downloaded.

The pipeline, once per file version: read the YAML (aliases bounded), refuse only what nothing
can use (not a mapping, not OpenAPI 3.0/3.1, no operations), mend what would stop a consumer and
report it as a finding (dangling `$ref`s, uncompilable patterns, meta-schema violations), rewrite
OpenAPI 3.0 as 3.1 and Unicode property classes as ranges, find the rules table, check that it
fits, and check the document against itself (examples, readOnly/writeOnly).

Which API a file describes: the name given (`--api NAME --spec PATH`, or `--spec NAME=PATH`), else
its file name or `info.title` when either names a bundled API; otherwise it is a usage error that
says how to name it. Its rules table: `STEM.rules.yaml` beside the file (it must be valid and fit),
else the bundled table of that API when it fits the document, else none (the generic rules only).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .._errors import SpecError, UsageError
from . import _dialect, _findings, _fit, _rules, _yaml
from ._findings import Finding
from ._rules import TOKEN_ENDPOINT_ROLE, Rules
from ._spec import Spec

MAX_META_FINDINGS = 50


def specs_dir() -> Path:
    """Where bundled specs live: $CONFORMANCE_SPECS_DIR, the checkout's specs/, or the wheel's copy."""
    override = os.environ.get("CONFORMANCE_SPECS_DIR")
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parents[2] / "specs"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parents[1] / "_bundled_specs"


def stem(path: Path) -> str:
    name = path.name
    for suffix in (".yaml", ".yml", ".json"):
        name = name.removesuffix(suffix)
    return name


def _is_path(text: str) -> bool:
    return "/" in text or os.sep in text or text.endswith((".yaml", ".yml", ".json"))


def load_spec(name_or_path: str | os.PathLike[str], *, api: str | None = None) -> Spec:
    """Load a spec by bundled name ("pay-by-bank") or by path, as the API `api` when given.

    Raises SpecError (one line naming the file) for a file nothing can use, an invalid rules table or
    one that does not fit; UsageError when the API of a file cannot be told.
    """
    text = os.fspath(name_or_path)
    if not _is_path(text):
        if api is not None and api != text:
            raise UsageError(f"--api {api} names another API than the spec {text!r}")
        api, path = text, specs_dir() / f"{text}.yaml"
        if not path.exists():
            raise UsageError(f"unknown spec {text!r} (bundled: {', '.join(SPEC_NAMES)}; or give a path)")
    else:
        path = Path(text)
    files = [path, path.with_name(f"{stem(path)}.rules.yaml")]
    if api:
        files.append(specs_dir() / f"{api}.rules.yaml")
    stamp = []
    for file in files:
        try:
            info = file.stat()
            stamp.append((info.st_mtime_ns, info.st_size))
        except OSError:
            stamp.append(None)
    return _load(path.resolve() if path.exists() else path, api, tuple(stamp))


def load_all(names: tuple[str, ...] | None = None) -> list[Spec]:
    """Every bundled spec (or the named ones), loaded."""
    return [load_spec(name) for name in names or SPEC_NAMES]


@cache
def _load(path: Path, api: str | None, stamp: object) -> Spec:
    """Load once per file version: the mock, the checks and the CLI ask for the same specs many times."""
    raw_text = _yaml.read_text(path)
    digest = hashlib.sha256(raw_text.encode("utf-8")).hexdigest()
    prepared = _cached(digest)
    if prepared is None:
        document = _yaml.parse(raw_text, path)
        version = _usable(path, document)
        findings: list[Finding] = []
        findings += _findings.mend_keys(document)
        findings += _findings.stray_keys(document)
        findings += _findings.mend_refs(document)
        findings += _meta_schema(document, version)
        findings += _findings.mend_parameters(document)
        patterns: dict[str, str] = {}
        findings += _findings.mend_patterns(document, patterns)
        if _dialect.is_30(document):
            _dialect.to_31(document)
        _dialect.bound_integer_formats(document)
        _keep(digest, document, version, findings, patterns)
    else:
        document, version, findings, patterns = prepared
    name = api or infer_api(path, document)
    if name is None:
        title = (document.get("info") or {}).get("title")
        raise UsageError(
            f"cannot tell which API {path} describes (file name {path.name!r}, title {title!r}): name it with "
            f"--api NAME --spec {path} or --spec NAME={path} (bundled: {', '.join(SPEC_NAMES)}; a new name "
            "certifies a new API with the generic rules)")
    spec = Spec(name=name, path=path, document=document, rules=_placeholder(name), sha256=digest,
                source_version=version, patterns=patterns, base_path=_dialect.base_path(document))
    rules, rules_path, rules_findings = _rules_for(spec)
    findings += rules_findings
    spec = Spec(name=name, path=path, document=document, rules=rules, sha256=digest, rules_path=rules_path,
                source_version=version, patterns=patterns, base_path=spec.base_path)
    findings += _findings.consistency(spec)
    object.__setattr__(spec, "findings", tuple(_readable(spec, findings)))
    return spec


# -- the prepared document, kept across processes ----------------------------------------------------------

@cache
def _preparation() -> str:
    """A fingerprint of the code that prepares documents: a cache entry from other code is never read."""
    digest = hashlib.sha256()
    for module in ("_yaml", "_dialect", "_patterns", "_findings", "_load"):
        digest.update((Path(__file__).with_name(f"{module}.py")).read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path | None:
    """Where prepared documents are kept: $CONFORMANCE_CACHE_DIR, else ~/.cache/payments-conformance;
    None with CONFORMANCE_NO_CACHE=1."""
    if os.environ.get("CONFORMANCE_NO_CACHE"):
        return None
    base = os.environ.get("CONFORMANCE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache",
                                                                    "payments-conformance")
    return Path(base)


def _entry(digest: str) -> Path | None:
    folder = cache_dir()
    return folder / f"spec-{_preparation()}-{digest}.json" if folder else None


def _cached(digest: str) -> tuple[dict[str, Any], str, list[Finding], dict[str, str]] | None:
    """The document as the loader prepared it before (JSON, never pickle: a cache file is data), or None."""
    entry = _entry(digest)
    if entry is None or not entry.is_file():
        return None
    try:
        data = orjson.loads(entry.read_bytes())
        findings = [Finding(**finding) for finding in data["findings"]]
        return data["document"], data["version"], findings, data["patterns"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from elsewhere: prepare the document again


def _keep(digest: str, document: dict[str, Any], version: str, findings: list[Finding],
          patterns: dict[str, str]) -> None:
    entry = _entry(digest)
    if entry is None:
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(orjson.dumps({"document": document, "version": version, "patterns": patterns,
                                            "findings": [f.to_dict() for f in findings]}))
        os.replace(temporary, entry)
    except (OSError, TypeError):
        pass  # a cache that cannot be written only costs time


def _usable(path: Path, document: Any) -> str:
    """The document's OpenAPI version; SpecError when nothing can use it."""
    if not isinstance(document, dict):
        raise SpecError(f"{path}: not an OpenAPI document (top level is not a mapping)")
    if "swagger" in document:
        raise SpecError(f"{path}: Swagger {document['swagger']} is not supported; convert it to OpenAPI 3 first")
    version = str(document.get("openapi", ""))
    if not re.match(r"^3\.[01](\.\d+)?", version):
        raise SpecError(f"{path}: not a usable OpenAPI document: 'openapi' must be 3.0.x or 3.1.x, "
                        f"found {version or 'nothing'!r}")
    for section in ("paths", "webhooks", "components", "info"):
        if section in document and not isinstance(document[section], dict | type(None)):
            raise SpecError(f"{path}: not a usable OpenAPI document: '{section}' is not a mapping")
    if not document.get("paths") and not document.get("webhooks"):
        raise SpecError(f"{path}: not a usable OpenAPI document: it has no paths and no webhooks")
    return version


def _meta_schema(document: dict[str, Any], version: str) -> list[Finding]:
    """Violations of the OpenAPI meta-schema, as warnings (patterns are reported by mend_patterns)."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator_class = OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    found = []
    try:
        for error in validator_class(document).iter_errors():
            message = " ".join(str(error.message).split())
            if "is not a 'regex'" in message:
                continue
            where = "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1")
                                    for p in getattr(error, "absolute_path", ()))
            found.append(Finding("openapi", where, f"breaks the OpenAPI {version} schema: {message[:300]}"))
            if len(found) >= MAX_META_FINDINGS:
                break
    except Exception as exc:  # noqa: BLE001 - the validator's own failure must not stop a usable document
        found.append(Finding("openapi", "#", f"could not be checked against the OpenAPI {version} schema: "
                                             f"{' '.join(str(exc).split())[:200]}"))
    return found


def _readable(spec: Spec, findings: list[Finding]) -> Iterator[Finding]:
    """Findings with rewritten patterns shown as the document wrote them."""
    for finding in findings:
        message = finding.message
        for rewritten, original in spec.patterns.items():
            message = message.replace(repr(rewritten)[1:-1], original).replace(rewritten, original)
        yield Finding(finding.kind, finding.location, message, finding.severity)


# -- which API, which rules ------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def infer_api(path: Path, document: dict[str, Any]) -> str | None:
    """The API a file describes: the `api` of the rules table beside it, else the bundled API its file name or
    its title names; None when none says."""
    sibling = path.with_name(f"{stem(path)}.rules.yaml")
    if sibling.exists():
        try:
            table = _yaml.read(sibling, "rules table")
        except SpecError:
            table = None
        if isinstance(table, dict) and isinstance(table.get("api"), str):
            return table["api"]
    name = stem(path)
    if name in SPEC_NAMES:
        return name
    title = _slug(str((document.get("info") or {}).get("title") or ""))
    for bundled in sorted(SPEC_NAMES, key=len, reverse=True):
        if title == bundled or title.startswith(bundled + "-") or f"-{bundled}-" in f"-{title}-":
            return bundled
    return None


def prefix_for(api: str) -> str:
    """A rule-ID prefix for an API without a rules table: initials of its name's words (OP), or the one word."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", api) if word]
    if len(words) == 1:
        return re.sub(r"[^A-Z]", "", words[0].upper())[:12] or "API"
    return "".join(word[0] for word in words if word[0].isalpha()).upper() or "API"


def _placeholder(name: str) -> Rules:
    return Rules.generic(name, prefix_for(name), None)


def generic_rules(spec: Spec) -> Rules:
    """The rules of a document without a table: the error schema is the one most 4xx answers declare."""
    schemas: Counter[str] = Counter()
    for op_id, operation in spec.operations.items():
        if operation.webhook:
            continue
        for code in spec.documented_statuses(op_id):
            if code.isdigit() and 400 <= int(code) < 500:
                pointer = spec.response_schema(op_id, int(code))
                if pointer:
                    schemas[pointer] += 1
    error_schema = schemas.most_common(1)[0][0] if schemas else None
    return Rules.generic(spec.name, prefix_for(spec.name), error_schema)


@cache
def _rules_schema() -> dict[str, Any]:
    """The schema of rules tables; always the bundled one, so a user's table elsewhere is judged the same."""
    return _yaml.read(specs_dir() / "rules.schema.yaml", "rules schema")


def read_rules(rules_path: Path) -> Rules:
    """A rules table, validated against rules.schema.yaml and parsed; SpecError naming the file otherwise."""
    table = _yaml.read(rules_path, "rules table")
    error = best_match(Draft202012Validator(_rules_schema()).iter_errors(table))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise SpecError(f"{rules_path}: invalid rules table at {where}: {' '.join(error.message.split())[:300]}")
    return _rules.parse(table)


def _rules_for(spec: Spec) -> tuple[Rules, Path | None, list[Finding]]:
    sibling = spec.path.with_name(f"{stem(spec.path)}.rules.yaml")
    fallback = generic_rules(spec).errors.schema
    if sibling.exists():
        rules = _fit.completed(spec, read_rules(sibling), fallback)
        problems = _fit.mismatches(spec, rules)
        if problems:
            raise SpecError(f"{sibling}: does not fit {spec.path.name}: {problems[0]}"
                            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        return _named(rules, spec.name), sibling, []
    bundled = specs_dir() / f"{spec.name}.rules.yaml"
    if bundled.exists():
        rules = _fit.completed(spec, read_rules(bundled), fallback)
        problems = _fit.mismatches(spec, rules)
        if not problems:
            return _named(rules, spec.name), bundled, []
        note = Finding("rules", str(bundled), f"the bundled rules table of {spec.name} does not fit this document "
                       f"({problems[0]}); only the generic rules apply (put a fitting {sibling.name} beside it)")
        return generic_rules(spec), None, [note]
    return generic_rules(spec), None, []


def _named(rules: Rules, api: str) -> Rules:
    """A table used for a document named differently keeps its rule IDs but takes the document's API name."""
    if rules.api == api:
        return rules
    from dataclasses import replace

    return replace(rules, api=api)


# -- the bundled specs ------------------------------------------------------------------------------------------


def iter_spec_files(directory: Path | None = None) -> Iterator[Path]:
    """The spec files in a directory (rules tables and the rules schema left out)."""
    directory = directory or specs_dir()
    for path in sorted(directory.glob("*.yaml")):
        if not path.name.endswith(".rules.yaml") and path.name != "rules.schema.yaml":
            yield path


def _role(spec_path: Path) -> str:
    """A spec's role from its rules table, read cheaply (no validation: load_spec does that)."""
    try:
        table = _yaml.read(spec_path.with_name(f"{stem(spec_path)}.rules.yaml"), "rules table")
    except SpecError:
        return "api"
    return table.get("role", "api") if isinstance(table, dict) else "api"


def _bundled_names() -> tuple[str, ...]:
    """Every spec file in specs/: the token endpoint first (others need its tokens), then by name.

    Derived from the folder, so that adding an API is adding a spec and its rules table, not code.
    """
    paths = list(iter_spec_files())
    return tuple(stem(p) for p in sorted(paths, key=lambda p: (_role(p) != TOKEN_ENDPOINT_ROLE, p.name)))


def token_spec_name(names: tuple[str, ...] | None = None) -> str | None:
    """The bundled spec whose rules table says it is the token endpoint."""
    for name in names or SPEC_NAMES:
        if _role(specs_dir() / f"{name}.yaml") == TOKEN_ENDPOINT_ROLE:
            return name
    return None


SPEC_NAMES: tuple[str, ...] = _bundled_names()
"""The bundled specs, in the order a run takes them (the token endpoint first)."""
