"""Options declared once: the config file changes a run as the same flags do, flags win, bad values are one line.

`certify --dry-run` prints what a run would do from its settled options (target, profile, budget, timeout,
rate limit, filters, tests and rules), so comparing its output under flags and under a config file shows
that both reach the run the same way, one option kind at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conformance._options import OPTIONS, options_for
from conformance.cli import main


def dry_run(capsys, *args):
    code = main(["certify", "--dry-run", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize(
    ("flags", "config"),
    [
        (["--origin", "http://127.0.0.1:9"], 'origin = "http://127.0.0.1:9"'),  # text
        (["--profile", "thorough"], 'profile = "thorough"'),  # choice
        (["--request-timeout", "2.5"], "request-timeout = 2.5"),  # number
        (["--origin", "http://127.0.0.1:9", "--rate-limit", "3"], 'origin = "http://127.0.0.1:9"\nrate-limit = 3'),
        (["--api", "pay-by-bank", "--api", "oauth"], 'api = ["pay-by-bank", "oauth"]'),  # list
        (["--include", "OP-REFUNDS-*", "--exclude", "V2PaymentHealthGet"],
         'include = ["OP-REFUNDS-*"]\nexclude = ["V2PaymentHealthGet"]'),
    ],
    ids=["text", "choice", "number", "rate", "list", "filters"],
)
def test_a_config_file_changes_a_run_as_the_same_flags_do(tmp_path, monkeypatch, capsys, flags, config):
    monkeypatch.chdir(tmp_path)
    plain = dry_run(capsys)
    with_flags = dry_run(capsys, *flags)
    assert with_flags != plain
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.conformance]\n{config}\n")
    assert dry_run(capsys) == with_flags
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "conformance.toml").write_text(config + "\n")
    assert dry_run(capsys) == with_flags
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "conformance.toml").rename(elsewhere / "ci.toml")
    assert dry_run(capsys, "--config", str(elsewhere / "ci.toml")) == with_flags


def test_switches_and_paths_from_the_config_reach_a_real_run(tmp_path, monkeypatch, capsys):
    """quiet (a switch) and report-dir (a path) from [tool.conformance], in a run that sends requests."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.conformance]\nquiet = true\nreport-dir = "evidence"\napi = ["oauth"]\ninclude = ["generated"]\n'
        "seed = 3\n")
    assert main(["certify"]) == 0
    out, err = capsys.readouterr()
    assert "started (" not in out + err  # quiet: no progress lines
    document = json.loads((tmp_path / "evidence" / "certification.json").read_text())
    assert document["seed"] == 3 and [api["name"] for api in document["apis"]] == ["oauth"]
    assert document["target"]["filters"] == {"include": ["generated"], "exclude": []}


def test_flags_win_over_the_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conformance.toml").write_text('profile = "thorough"\napi = ["oauth"]\n')
    out = dry_run(capsys, "--profile", "standard")
    assert "profile standard:" in out and "oauth:" in out and "pay-by-bank:" not in out


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("colour = true", "unknown key 'colour'"),
        ("deadline = 3", "unknown key 'deadline'; it is a `callbacks` option: put it under [callbacks]"),
        ("[callbacks]\nrate-limit = 3", "unknown key 'rate-limit' in [callbacks]"),
        ("rate-limit = -5", "rate-limit takes a number from 0 to 100000, not -5"),
        ("request-timeout = nan", "request-timeout takes a finite number"),
        ("request-timeout = inf", "request-timeout takes a finite number"),
        ('seed = "seven"', "seed takes a whole number"),
        ('api = "pay-by-bank"', None),  # one name for a list option is fine
        ("api = [1, 2]", "api takes a non-empty text"),
        ('profile = "fast"', "profile takes one of quick, standard, thorough"),
        ("quiet = 1", "quiet takes true or false"),
        ("origin = ", "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, config, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conformance.toml").write_text(config + "\n")
    code = main(["certify", "--dry-run"])
    out, err = capsys.readouterr()
    if message is None:
        assert code == 0, err
        return
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "conformance.toml" in lines[0] and message in lines[0], lines[0]


def test_a_missing_config_file_is_exit_2(tmp_path, capsys):
    assert main(["certify", "--dry-run", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_callbacks_read_their_table(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conformance.toml").write_text('[callbacks]\napi = "pay-by-bank"\ntarget = "ftp://nowhere"\n')
    assert main(["callbacks"]) == 2  # api and target came from the file: the target is then judged
    assert "--target 'ftp://nowhere' must be an http:// or https:// URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["certify", "--request-timeout", "nan"], ["certify", "--timeout", "inf"], ["certify", "--rate-limit", "-5"],
        ["certify", "--workers", "0"], ["certify", "--seed", "1.5"], ["callbacks", "--deadline", "nan"],
        ["callbacks", "--deadline", "0"], ["mock", "--port", "70000"], ["mock", "--token-ttl", "nan"],
        ["mock", "--retry-attempts", "0"], ["mock", "--retry-base", "-1"], ["examples", "-n", "inf"],
        ["examples", "--seed", "-3"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_every_bad_number_is_one_line_and_exit_2(argv):
    done = subprocess.run([sys.executable, "-m", "conformance", *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"argument {argv[1]}" in lines[0]


def test_old_spellings_still_work_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = dry_run(capsys, "--timeout", "2.5")
    assert "timeout 2.5 s" in out
    code = main(["certify", "--dry-run", "--timeout", "2.5"])
    assert code == 0
    assert capsys.readouterr().err.strip() == "conformance: warning: --timeout is deprecated; use --request-timeout"


def test_the_plugin_takes_the_same_options_and_the_config(tmp_path):
    """pytest --help lists every certify option of the table; the plugin reads [tool.conformance] too."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "conformance.plugin", "--help"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    for option in options_for("pytest"):
        assert (option.flag if option.flag != "--config" else "--conformance-config") in done.stdout, option.flag
    assert "--conformance-seed" in done.stdout  # the deprecated alias, still accepted
    (tmp_path / "pyproject.toml").write_text('[tool.conformance]\ninclude = ["scenarios"]\napi = ["online-payments"]\n')
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
                           "--collect-only", "-q"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected and all("test_scenarios.py" in line and "online-payments:" in line for line in collected), \
        done.stdout + done.stderr


def test_every_option_says_what_it_does():
    for option in OPTIONS:
        assert option.help and option.commands, option.flag
