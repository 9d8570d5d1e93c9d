"""Reading a certification.json back: its published schema, and loading with one-line errors.

The schema file ships inside the package, so a reader can validate a report with nothing but
this tool installed; docs/reports.md carries the same text (a test keeps them equal).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .._errors import UsageError
from ..redaction import Redactor

SCHEMA_PATH = Path(__file__).with_name("certification.schema.json")
SUPPORTED_MAJOR = "1"
MAX_DEPTH = 200
"""Deepest nesting a record may have: rendering walks it recursively (evidence from a target is cut far sooner)."""


class ReportError(UsageError):
    """A report file that is missing, not JSON, or not a certification record this tool can read."""


@cache
def certification_schema() -> dict[str, Any]:
    """The JSON Schema of certification.json (format 1.x)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validator() -> Draft202012Validator:
    """A validator for certification.json, formats (date-time) checked."""
    return Draft202012Validator(certification_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a certification.json; ReportError (one line, exit code 2) when it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ReportError(f"{path}: is a directory; give the path of certification.json") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_not_a_number)
    except ValueError as exc:
        raise ReportError(f"{path}: not JSON: {exc}") from None
    except RecursionError:
        raise ReportError(f"{path}: not a certification record (JSON nested too deeply to read)") from None
    if _depth_exceeds(document, MAX_DEPTH):
        raise ReportError(f"{path}: not a certification record (JSON nested deeper than {MAX_DEPTH} levels)")
    if not isinstance(document, dict) or "format_version" not in document:
        raise ReportError(f"{path}: not a certification record (no format_version)")
    version = str(document["format_version"])
    if version.split(".")[0] != SUPPORTED_MAJOR:
        raise ReportError(f"{path}: format_version {version} is not supported (this tool reads {SUPPORTED_MAJOR}.x)")
    error = best_match(validator().iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        raise ReportError(f"{path}: invalid certification record at {where}: {message}")
    return redact_evidence(document)


def _not_a_number(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number JSON allows")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether JSON data nests deeper than `limit` (walked without recursion, so any depth is safe)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


def redact_evidence(document: dict[str, Any], redactor: Redactor | None = None) -> dict[str, Any]:
    """Scrub the parts of a record that carry what others sent or said (target, failures, rule texts).

    A record this tool wrote is already redacted and comes out unchanged (redaction is idempotent);
    one written or edited elsewhere is scrubbed before anything is rendered from it. Fields the tool
    computes itself (hashes, counts, seed, times) are left alone, so no digit run in them is masked.
    """
    redactor = redactor or Redactor()
    document = dict(document)
    document["target"] = redactor.data(document["target"])
    document["failures"] = redactor.data(document["failures"])
    if document.get("incomplete_reason"):
        document["incomplete_reason"] = redactor.text(document["incomplete_reason"])
    apis = []
    for api in document["apis"]:
        api = dict(api)
        api["rules"] = [
            {
                **rule,
                "description": redactor.text(rule["description"]),
                "skip_reasons": redactor.data(rule["skip_reasons"]),
            }
            for rule in api["rules"]
        ]
        api["coverage"] = [
            {
                **field,
                "field": redactor.text(field["field"]),
                "statuses": [{**status, "value": redactor.text(status["value"])} for status in field["statuses"]],
            }
            for field in api["coverage"]
        ]
        apis.append(api)
    document["apis"] = apis
    return document
