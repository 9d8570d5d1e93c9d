"""The spec loader's bad-input behaviour: one clear line naming the file, exit code 2, no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import SpecError, load_spec, specs_dir


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


def test_bundled_specs_check_cleanly():
    result = run_cli("specs")
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
    from conformance._specs import _bundled_names, token_spec_name

    names = _bundled_names()
    assert names[0] == "oauth" and "another-bank" in names
    assert token_spec_name(names) == "oauth"
    assert load_spec("another-bank").prefix == "PBB"


def test_a_user_copy_loads_by_path(spec_copy: Path):
    spec = load_spec(spec_copy)
    assert spec.name == "pay-by-bank" and spec.path == spec_copy
    assert spec.rules["prefix"] == "PBB"


def test_missing_file(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(run_cli("specs", str(missing)), str(missing), "file not found")


def test_unknown_spec_name():
    assert_one_line_error(run_cli("specs", "no-such-api"), "no-such-api.yaml", "file not found")


def test_yaml_syntax_error(spec_copy: Path):
    spec_copy.write_text("openapi: 3.1.0\ninfo: {title: [unclosed\n")
    assert_one_line_error(run_cli("specs", str(spec_copy)), str(spec_copy), "YAML syntax error at line")


def test_not_openapi_31(spec_copy: Path):
    spec_copy.write_text("swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n")
    assert_one_line_error(run_cli("specs", str(spec_copy)), str(spec_copy), "'openapi' must be 3.1.x")


def test_invalid_document(spec_copy: Path):
    text = spec_copy.read_text().replace("operationId: createPayout", "operationId: [not, a, string]")
    spec_copy.write_text(text)
    assert_one_line_error(run_cli("specs", str(spec_copy)), str(spec_copy), "invalid OpenAPI 3.1 document at")


def test_missing_rules_table(spec_copy: Path):
    spec_copy.with_name("pay-by-bank.rules.yaml").unlink()
    assert_one_line_error(run_cli("specs", str(spec_copy)), "pay-by-bank.rules.yaml", "file not found")


def test_invalid_rules_table(spec_copy: Path):
    rules = spec_copy.with_name("pay-by-bank.rules.yaml")
    rules.write_text(rules.read_text().replace("prefix: PBB", "prefix: pbb-lowercase"))
    assert_one_line_error(run_cli("specs", str(spec_copy)), "pay-by-bank.rules.yaml", "invalid rules table at prefix")


def test_spec_error_is_raised_in_code_too(tmp_path: Path):
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "absent.yaml")
