"""Same seed, same requests (issue 13, item 14).

Six `certify --seed 42` runs used to send 230, 229, 230, 230, 230, 230 requests: a resource was read
until it came to rest, and how many reads that took depended on how fast the provider moved it.
Now, with a callback sink, the run waits for the callbacks that say the resource rests and reads it
after: the same seed sends the same requests whatever the provider's pace. Here the same run goes
twice through a recording proxy to the mock, once with a lifecycle step every 10 ms and once every
150 ms, and both send the same requests in the same order (docs/certify.md says what may still differ).
"""

from __future__ import annotations

import json

from client_peers import RecordingProxy, serving
from port_support import reserve_port

from conformance.cli import main
from conformance.mock import MockServer
from conformance.suites._environment import WRONG_SCOPE

CLIENT_ID, CLIENT_SECRET = "pace-client", "pace-client-secret"
SINK_TOKEN = "pace-tests-sink-token"
"""The sink's path, registered with the mock as with a sandbox (docs/certify.md, the callback sink)."""


def _certify_at_pace(pace: float, port: int, reports, capsys) -> tuple[list[tuple[str, str]], dict]:
    scopes = ("jpm:payments:sandbox", WRONG_SCOPE)
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=scopes, callback_interval=pace) as mock:
        mock.set_callback_url(f"http://127.0.0.1:{port}/{SINK_TOKEN}/{{api}}/{{webhook}}")
        with serving(RecordingProxy(mock.origin)) as proxy:
            main(["certify", "--origin", proxy.origin, "--callback-listen", f"127.0.0.1:{port}", "--api", "pay-by-bank",
                  "--api", "global-payments", "--rate-limit", "0", "--seed", "42", "--quiet", "--report-dir",
                  str(reports)])
            sent = list(proxy.requests)
    capsys.readouterr()
    return sent, json.loads((reports / "certification.json").read_text())


def test_the_same_seed_sends_the_same_requests_at_any_pace(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CONFORMANCE_SINK_TOKEN", SINK_TOKEN)
    fast, fast_record = _certify_at_pace(0.01, reserve_port(), tmp_path / "fast", capsys)
    slow, slow_record = _certify_at_pace(0.15, reserve_port(), tmp_path / "slow", capsys)
    token_requests = {request for request in fast + slow if "oauth2" in request[1]}
    # Tokens are fetched when they expire: how many depends on the run's length, not on the seed.
    fast = [request for request in fast if request not in token_requests]
    slow = [request for request in slow if request not in token_requests]
    assert fast == slow, f"{len(fast)} requests at a fast pace, {len(slow)} at a slow one"
    for record in (fast_record, slow_record):  # and the report says how many, with the seed
        assert record["complete"] and record["seed"] == 42 and record["requests"] == fast_record["requests"]
