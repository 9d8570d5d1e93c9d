"""The spec loader: published documents load as they are, their defects become findings, bad input is one line.

Exit 2 only for a document nothing can use; a usable one is exit 0 with its own inconsistencies listed
as warnings at their locations. Each quirk of the provider's published documents is tested with a
small document written for the test (tests/fixtures/quirks-3.0.yaml), never with a copy of theirs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from conformance import SpecError, UsageError, load_spec, specs_dir
from conformance._specs import generic_rules

QUIRKS = Path(__file__).parent / "fixtures" / "quirks-3.0.yaml"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], capture_output=True, text=True, timeout=60, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A user's copy of the Pay By Bank spec and its rules table, to break in various ways."""
    for name in ("pay-by-bank.yaml", "pay-by-bank.rules.yaml"):
        shutil.copy(specs_dir() / name, tmp_path / name)
    return tmp_path / "pay-by-bank.yaml"


@pytest.fixture
def quirks(tmp_path: Path) -> Path:
    path = tmp_path / "widgets.yaml"
    shutil.copy(QUIRKS, path)
    return path


# -- the bundled specs ----------------------------------------------------------------------------------------


def test_bundled_specs_check_cleanly():
    result = run_cli("specs", "--quiet")
    assert result.returncode == 0, result.stderr
    # Every spec file in specs/, the token endpoint (role in its rules table) first, then by name.
    assert [line.split()[1] for line in result.stdout.splitlines()] == [
        "oauth", "global-payments", "online-payments", "pay-by-bank"
    ]


def test_bundled_specs_are_found_from_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fourth API is a spec and its rules table in the folder, no code: the list is derived."""
    for path in specs_dir().glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    for name in ("pay-by-bank.yaml", "pay-by-bank.rules.yaml"):
        shutil.copy(specs_dir() / name, tmp_path / name.replace("pay-by-bank", "another-bank"))
    rules = tmp_path / "another-bank.rules.yaml"
    rules.write_text(rules.read_text().replace("api: pay-by-bank", "api: another-bank"))
    monkeypatch.setenv("CONFORMANCE_SPECS_DIR", str(tmp_path))
    from conformance._specs._load import _bundled_names, token_spec_name

    names = _bundled_names()
    assert names[0] == "oauth" and "another-bank" in names
    assert token_spec_name(names) == "oauth"


def test_a_user_copy_loads_by_path(spec_copy: Path):
    spec = load_spec(spec_copy)
    assert spec.name == "pay-by-bank" and spec.path == spec_copy.resolve()
    assert spec.rules.prefix == "PBB" and spec.rules_path == spec_copy.with_name("pay-by-bank.rules.yaml").resolve()


# -- documents nothing can use: exit 2, one line --------------------------------------------------------------


def test_missing_file(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(run_cli("specs", str(missing)), str(missing), "file not found")


def test_unknown_spec_name():
    assert_one_line_error(run_cli("specs", "no-such-api"), "unknown spec 'no-such-api'")


def test_yaml_syntax_error(spec_copy: Path):
    spec_copy.write_text("openapi: 3.1.0\ninfo: {title: [unclosed\n")
    assert_one_line_error(run_cli("specs", str(spec_copy)), str(spec_copy), "YAML syntax error at line")


@pytest.mark.parametrize(("text", "fragment"), [
    ("swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n", "Swagger 2.0 is not supported"),
    ("openapi: 4.0.0\ninfo: {title: x, version: '1'}\npaths: {/a: {get: {responses: {}}}}\n",
     "'openapi' must be 3.0.x or 3.1.x"),
    ("openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n", "no paths and no webhooks"),
    ("- a list\n- not a document\n", "top level is not a mapping"),
    ("openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: [1, 2]\n", "'paths' is not a mapping"),
])
def test_unusable_documents(spec_copy: Path, text: str, fragment: str):
    spec_copy.write_text(text)
    assert_one_line_error(run_cli("specs", str(spec_copy)), str(spec_copy), fragment)


def test_billion_laughs_is_refused_quickly(spec_copy: Path):
    """401 bytes that would expand past billions of nodes: counted on the shared graph, refused, nothing expanded."""
    lines = ["openapi: 3.1.0", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    spec_copy.write_text("\n".join(lines) + "\n")
    assert_one_line_error(run_cli("specs", str(spec_copy)), "expands to more than", "refused")


def test_an_alias_containing_itself_is_refused(spec_copy: Path):
    spec_copy.write_text("openapi: 3.1.0\nloop: &loop [*loop]\n")
    with pytest.raises(SpecError, match="refers to the node that contains it"):
        load_spec(spec_copy)


def test_invalid_rules_table(spec_copy: Path):
    rules = spec_copy.with_name("pay-by-bank.rules.yaml")
    rules.write_text(rules.read_text().replace("prefix: PBB", "prefix: pbb-lowercase"))
    assert_one_line_error(run_cli("specs", str(spec_copy)), "pay-by-bank.rules.yaml", "invalid rules table at prefix")


def test_a_rules_table_that_does_not_fit_its_document(spec_copy: Path):
    rules = spec_copy.with_name("pay-by-bank.rules.yaml")
    rules.write_text(rules.read_text().replace("operation: createPayout", "operation: createPayoutRenamed", 1))
    assert_one_line_error(run_cli("specs", str(spec_copy)), "does not fit pay-by-bank.yaml",
                          "operation 'createPayoutRenamed' is not in the document")


def test_a_rules_table_pointer_that_does_not_fit(spec_copy: Path):
    rules = spec_copy.with_name("pay-by-bank.rules.yaml")
    rules.write_text(rules.read_text().replace("field: /status", "field: /statusRenamed", 1))
    assert_one_line_error(run_cli("specs", str(spec_copy)), "does not fit", "/statusRenamed is not in the schema")


def test_spec_error_is_raised_in_code_too(tmp_path: Path):
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "absent.yaml")


# -- usable documents: exit 0, their defects as warnings --------------------------------------------------------


def test_a_meta_schema_violation_is_a_warning_not_a_refusal(spec_copy: Path):
    text = spec_copy.read_text().replace("operationId: getPayout", "operationId: [not, a, string]")
    spec_copy.with_name("pay-by-bank.rules.yaml").unlink()
    spec_copy.write_text(text)
    result = run_cli("specs", str(spec_copy))
    assert result.returncode == 0, result.stderr
    assert "breaks the OpenAPI 3.1.0 schema" in result.stdout


def test_without_a_rules_table_the_generic_rules_apply(spec_copy: Path, tmp_path: Path):
    spec_copy.with_name("pay-by-bank.rules.yaml").unlink()
    renamed = spec_copy.rename(tmp_path / "payments-elsewhere.yaml")
    spec = load_spec(renamed, api="payments-elsewhere")
    assert spec.rules_path is None and not spec.rules.from_table
    assert spec.prefix == "PE" and spec.rules.scenarios == ()
    assert spec.rules.errors.schema == "#/components/schemas/ErrorResponse"  # what most 4xx answers carry
    assert generic_rules(spec).errors.schema == spec.rules.errors.schema


def test_the_bundled_table_of_a_named_api_applies_when_it_fits(spec_copy: Path, tmp_path: Path):
    spec_copy.with_name("pay-by-bank.rules.yaml").unlink()
    renamed = spec_copy.rename(tmp_path / "my-copy.yaml")
    spec = load_spec(renamed, api="pay-by-bank")
    assert spec.rules.from_table and spec.rules_path == specs_dir() / "pay-by-bank.rules.yaml"


def test_the_bundled_table_that_does_not_fit_is_a_finding(spec_copy: Path, tmp_path: Path):
    spec_copy.with_name("pay-by-bank.rules.yaml").unlink()
    spec_copy.write_text(spec_copy.read_text().replace("operationId: createPayout", "operationId: makePayout"))
    spec = load_spec(spec_copy)
    assert not spec.rules.from_table
    [note] = [f for f in spec.findings if f.kind == "rules"]
    assert "does not fit" in note.message and "'createPayout'" in note.message


# -- which API a file describes -------------------------------------------------------------------------------


def test_a_file_that_names_no_api_is_a_usage_error_saying_how(quirks: Path):
    result = run_cli("specs", str(quirks))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--api NAME" in result.stderr and "--spec NAME=" in result.stderr
    with pytest.raises(UsageError):
        load_spec(quirks)


@pytest.mark.parametrize("args", [("--api", "widgets", "{path}"), ("widgets={path}",)])
def test_naming_the_api_of_a_file(quirks: Path, args: tuple[str, ...]):
    result = run_cli("specs", *(arg.format(path=quirks) for arg in args))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok  widgets ")


def test_the_title_names_a_bundled_api(spec_copy: Path, tmp_path: Path):
    target = tmp_path / "downloaded-openapi.yaml"
    shutil.copy(spec_copy, target)
    assert load_spec(target).name == "pay-by-bank"  # title "... Pay By Bank ..."


# -- published documents' quirks ------------------------------------------------------------------------------


def test_openapi_30_is_read_as_31(quirks: Path):
    spec = load_spec(quirks, api="widgets")
    widget = spec.resolve("#/components/schemas/Widget")["properties"]
    assert spec.document["openapi"] == "3.1.0" and spec.source_version == "3.0.1"
    assert widget["note"]["type"] == ["string", "null"] and "nullable" not in widget["note"]
    assert widget["size"] == {"type": "integer", "exclusiveMinimum": 0}
    assert widget["city"]["examples"] == ["Zoë"] and "example" not in widget["city"]
    assert spec.base_path == "/api/v3"
    validator = spec.validator("#/components/schemas/Widget", "response")
    assert validator.is_valid({"id": "w", "city": "Zoë", "size": 1, "note": None})
    assert not validator.is_valid({"id": "w", "city": "Zoë", "size": 0})


def test_refs_of_every_kind_resolve(quirks: Path):
    spec = load_spec(quirks, api="widgets")
    assert [name for name, _ in [(p["name"], p) for _, p in spec.parameters("createWidget")]] == ["request-id"]
    assert spec.request_schema("createWidget") == "#/components/schemas/Widget"
    assert spec.examples("createWidget")["basic"]["city"] == "Zoë"
    assert spec.response_schema("createWidget", 400) == "#/components/responses/Error/content/application~1json/schema"
    assert spec.required_scopes("getWidget") == frozenset()


def test_unicode_property_classes_mean_the_same_to_every_consumer(quirks: Path):
    """\\p{L} is a letter for jsonschema (checks), jsonschema_rs (the mock) and Hypothesis (the strategies)."""
    import jsonschema_rs

    import strategies
    from conformance.mock._validation import OperationValidator, SpecSchemas

    spec = load_spec(quirks, api="widgets")
    pattern = spec.resolve("#/components/schemas/Widget")["properties"]["city"]["pattern"]
    assert spec.display_pattern(pattern) == "^[\\p{L}'. -]+$"
    checks = spec.validator("#/components/schemas/Widget/properties/city", "response")
    rust = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    for value, valid in (("Zoë", True), ("北京", True), ("O'Brien", True), ("Zo3", False), ("a_b", False)):
        assert checks.is_valid(value) is valid and rust.is_valid(value) is valid
        assert bool(re.match(pattern, value)) is valid
    mock = OperationValidator(SpecSchemas(spec), spec.operations["createWidget"])
    assert mock.problems({"request-id": "r"}, {}, {}, {"city": "Zoë", "secret": "s", "size": 1}) == []
    assert mock.problems({"request-id": "r"}, {}, {}, {"city": "Zo3", "secret": "s", "size": 1})[0].keyword == "pattern"
    for request in strategies.sample(strategies.requests(spec, "createWidget"), 30, seed=3):
        city = request.body["city"]
        assert all(unicodedata.category(ch).startswith("L") or ch in "'. -" for ch in city), city


def test_findings_name_their_locations(quirks: Path):
    spec = load_spec(quirks, api="widgets")
    found = {(f.kind, f.location.split(" ")[0]) for f in spec.findings}
    assert ("dangling-ref", "#/paths/~1widgets~1{id}/get/responses/409/content/application~1json/schema") in found
    assert ("pattern", "#/components/schemas/Widget/properties/code/pattern") in found
    assert ("format", "#/components/schemas/Widget/properties/state/format") in found
    assert ("read-write", "#/components/schemas/Widget/required") in found
    assert ("parameter", "#/paths/~1widgets~1{id}/get/parameters/1") in found
    assert ("key", "#/paths/~1widgets~1{id}/get/parameters/1/examples/true") in found  # YAML read `on:` as true
    assert spec.parameters("getWidget")[1][1]["schema"] == {"type": "string"}
    example = "#/paths/~1widgets/post/responses/201/content/application~1json/examples/broken/value"
    assert ("example", example) in found
    messages = " ".join(f.message for f in spec.findings)
    assert "'secret' is required but writeOnly" in messages and "'id' is required but readOnly" in messages
    assert "[unclosed" in messages and "not enforced" in messages
    # The mended document works: the dangling schema accepts anything, the broken pattern judges nothing.
    assert spec.validator(spec.response_schema("getWidget", 409), "response").is_valid({"any": "thing"})


def test_specs_command_lists_findings_as_warnings_and_exits_0(quirks: Path):
    result = run_cli("specs", "--api", "widgets", str(quirks))
    assert result.returncode == 0, result.stderr
    assert "warnings" in result.stdout.splitlines()[0]
    assert "    warning: #/components/schemas/Widget/properties/code/pattern: pattern '[unclosed'" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_prepared_documents_are_cached_across_processes_as_data(quirks: Path, tmp_path: Path):
    """A second process reads the prepared document from the cache (JSON, never code); a damaged entry is ignored."""
    cache = tmp_path / "cache"
    environment = {**os.environ, "CONFORMANCE_CACHE_DIR": str(cache)}

    def specs_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "conformance", "specs", "--json", f"widgets={quirks}"],
                              capture_output=True, text=True, timeout=60, check=False, env=environment)

    first = specs_run()
    [entry] = list(cache.glob("spec-*.json"))
    second = specs_run()
    assert first.returncode == second.returncode == 0
    assert json.loads(first.stdout)["findings"] == json.loads(second.stdout)["findings"]
    entry.write_text("{not json")
    third = specs_run()
    assert third.returncode == 0 and json.loads(third.stdout)["findings"] == json.loads(first.stdout)["findings"]
    environment["CONFORMANCE_NO_CACHE"] = "1"
    entry.unlink()
    assert specs_run().returncode == 0 and not list(cache.glob("spec-*.json"))
