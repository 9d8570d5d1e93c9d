"""One chosen callback, for `conformance callbacks --only WEBHOOK:STATUS [--body FILE]`.

What a developer wiring a receiver wants most often: send the callback for one status, now, with
their own data if they like (Stripe's `trigger` with custom data). Without a body the callback is
drawn from the callback strategies for that status, valid by construction and checked against the
webhook's schema; with `--body FILE` the file is sent byte for byte, as asked, and if it does not
match the schema the sender says so (one note) but still sends it: testing a receiver with an
off-spec body is a legitimate wish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match

from .. import pointers
from .._errors import UsageError
from .._specs import Spec
from ._payloads import Payloads, encode
from ._webhooks import Webhook, webhooks


def parse_choice(choice: str, spec: Spec, with_body: bool) -> tuple[Webhook, str | None]:
    """WEBHOOK:STATUS (or WEBHOOK alone, with a body of one's own) as the webhook and the status."""
    name, _, status = choice.partition(":")
    known = {webhook.name: webhook for webhook in webhooks(spec)}
    if name not in known:
        raise UsageError(f"--only {choice!r}: {spec.name} has no webhook {name!r} (it has: {', '.join(known)})")
    webhook = known[name]
    if not status:
        if webhook.statuses and not with_body:
            raise UsageError(f"--only takes WEBHOOK:STATUS; {name} statuses: {', '.join(webhook.statuses)}")
        return webhook, None
    if status not in webhook.statuses:
        listed = ", ".join(webhook.statuses) or "none"
        raise UsageError(f"--only {choice!r}: {status!r} is not a documented status of {name} ({listed})")
    return webhook, status


def chosen_body(spec: Spec, webhook: Webhook, status: str | None, body_file: Path | None,
                seed: int) -> tuple[bytes, list[str]]:
    """The bytes to send, and notes for the user (a body of one's own that does not match the schema)."""
    if body_file is not None:
        try:
            content = body_file.read_bytes()
        except OSError as exc:
            raise UsageError(f"--body {body_file}: cannot read: {exc.strerror or exc}") from None
        return content, _notes(spec, webhook, status, content, str(body_file))
    body = Payloads(spec, webhook, seed, variety=1).valid(status)
    problem = best_match(spec.validator(webhook.schema_pointer, "response").iter_errors(body))
    if problem is not None:  # the strategies drew something the schema refuses: ours to fix, not the user's
        raise UsageError(f"the generated {webhook.name} callback does not match its schema: {problem.message}")
    return encode(body), []


def _notes(spec: Spec, webhook: Webhook, status: str | None, content: bytes, name: str) -> list[str]:
    import json

    try:
        body: Any = json.loads(content)
    except ValueError:
        return [f"{name} is not JSON: sent as is"]
    problem = best_match(spec.validator(webhook.schema_pointer, "response").iter_errors(body))
    notes = []
    if problem is not None:
        where = "/" + "/".join(str(part) for part in problem.absolute_path)
        notes.append(f"{name} does not match the {webhook.name} schema at {where}: {problem.message[:160]}; "
                     "sent as is")
    if status is not None and webhook.status_field:
        records = pointers.resolve_all(body, webhook.records)
        found = {pointers.resolve(record, webhook.status_field) for record in records if isinstance(record, dict)}
        found.discard(pointers.MISSING)
        if found and found != {status}:
            notes.append(f"{name} carries status {', '.join(sorted(map(str, found)))}, not {status}: sent as is")
    return notes
