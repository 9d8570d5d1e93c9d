"""Redaction, in one place: every artifact writer and every console stream goes through here.

Card data and credentials must never reach a report or a log, whoever produced them: our own
requests, a provider that leaks a PAN (exactly what a certification run is looking for), or an
exception message. So redaction is applied where text leaves the process, not trusted to callers.

What is redacted (docs/reports.md keeps the same list):

- PANs: runs of 12 to 19 digits (also grouped by single spaces or dashes) that pass the Luhn check
  become the first six digits, X for the middle, the last four ("401200XXXXXX0026"). Masked PANs
  stay as they are. A non-card number that happens to pass Luhn is masked too: over-redaction is
  preferred to a leak. UUIDs are identifiers, never PANs: they are left as they are.
- CVVs (keys cvv, cvc, cvv2, securityCode, ...) and card expiry (keys expiry, expirationDate,
  expMonth, ...) are dropped from structured data; in plain text their values become [REDACTED].
- Authorization, Proxy-Authorization, Cookie and Set-Cookie header values become [REDACTED]
  (keeping the scheme: "Bearer [REDACTED]"); so do bearer and basic credentials and JWTs anywhere.
- access_token, refresh_token, id_token, client_secret, password values become [REDACTED].
- The userinfo of URLs (user:password@ or token@) is stripped ("https://host/..."): a marker such as
  "[REDACTED]@" would make the URL unparseable (brackets there mean an IPv6 host). curl's -u/--user
  values become [REDACTED].
- Every known secret the caller hands over (client secret, issued tokens, the password of a URL
  the run was given and the Basic credential built from it) becomes [REDACTED] wherever it
  appears, also URL-encoded.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import re
import sys
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO

from .formats import luhn_valid

REDACTED = "[REDACTED]"

MIN_SECRET_LENGTH = 4
"""Known secrets shorter than this are ignored: replacing "ab" everywhere would wreck the evidence."""
MAX_DEPTH = 64
"""Structured data nested deeper than this is cut (a hostile answer may nest 100,000 arrays)."""
CUT = f"[cut: nested deeper than {MAX_DEPTH} levels]"

_CARD_VERIFICATION_KEYS = frozenset(
    {"cvv", "cvc", "cvv2", "cvc2", "cvn", "cid", "csc", "securitycode", "cardsecuritycode", "cardverificationvalue"}
)
_EXPIRY_KEYS = frozenset(
    {
        "expiry",
        "expirydate",
        "expiration",
        "expirationdate",
        "expdate",
        "expmonth",
        "expyear",
        "expirymonth",
        "expiryyear",
        "expirationmonth",
        "expirationyear",
    }
)
_SECRET_KEYS = frozenset({"accesstoken", "refreshtoken", "idtoken", "clientsecret", "password", "apikey", "xapikey"})
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_DIGIT_RUN = re.compile(
    r"(?P<uuid>\b[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\b)"
    r"|\d+(?:[ -]\d+)*"
)
"""Digit runs to test for PANs, and UUIDs to leave alone: about one random UUID in 200 holds dash-joined
digit groups that pass Luhn, and no UUID is a card number. Digits glued to letters are still tested (a
provider's message may leak "PAN4012..."): masking an identifier by mistake beats leaking a card."""
_AUTH_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s+\S")
_HEADER_LINE = re.compile(r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie)(\s*:\s*)([^\r\n'\"]+)")
_SCHEMED_CREDENTIAL = re.compile(
    r"(?i)\b(bearer|basic)(\s+)(?!\[REDACTED\])(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# Keys and values may sit in JSON that is itself inside a JSON string (an answer echoing a request body):
# their quotes are then escaped (\"cvv\": \"123\"), and the patterns allow the backslashes.
_SECRET_VALUE = re.compile(
    r"(?i)(\\*\"?(?:access_token|refresh_token|id_token|client_secret|password|api_key|x-api-key)\\*\"?\s*[:=]"
    r"\s*\\*\"?)(?!\[REDACTED\])([^\"&\s,;}\\]+)"
)
_CARD_VALUE = re.compile(
    r"(?i)((?:cvv2?|cvc2?|securityCode|exp(?:iry|iration)?(?:[._\[\]]*(?:date|month|year)\]?)?)"
    r"(\\*)\"?\s*[:=]\s*)(\{[^{}]*\}|\\*\"[^\"\\]*\\*\"|[^\s&,;}\"\\]+)"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://)[^/?#\s@'\"<>]+@")
_CURL_USER = re.compile(r"(\s(?:-u|--user)\s+)('[^']*'|\"[^\"]*\"|\S+)")


def url_secrets(url: str | None) -> list[str]:
    """The secrets a URL carries in its userinfo: the password (or a lone user, often a token), the
    user:password pair, and the HTTP Basic credential a client builds from it on its own."""
    if not url:
        return []
    try:
        parts = urllib.parse.urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return []
    if user is None and password is None:
        return []
    user = urllib.parse.unquote(user or "")
    password = urllib.parse.unquote(password) if password is not None else None
    pair = f"{user}:{password or ''}"
    found = [password if password else user, pair, base64.b64encode(pair.encode()).decode()]
    return [secret for secret in found if secret]


def mask_pan(pan: str) -> str:
    """First six and last four digits, X in between, as the provider masks them ("411234XXXXXX4113")."""
    digits = "".join(char for char in pan if char.isdigit())
    return digits[:6] + "X" * (len(digits) - 10) + digits[-4:]


def _mask_run(match: re.Match[str]) -> str:
    """Mask every PAN in a run of digit groups ("4012 0000 3333 0026 2027" -> "401200XXXXXX0026 2027").

    Groups are joined by single spaces or dashes; from each group, the longest window of whole
    groups holding 12 to 19 digits that passes Luhn is a PAN."""
    run = match.group(0)
    if match.group("uuid"):
        return run
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    pieces: list[str] = []
    done = 0
    i = 0
    while i < len(groups):
        found = None
        digits = ""
        windows = []
        for j in range(i, len(groups)):
            digits += run[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            if len(digits) >= 12:
                windows.append((j, digits))
        for j, candidate in reversed(windows):
            if luhn_valid(candidate):
                found = (j, candidate)
                break
        if found is None:
            i += 1
            continue
        j, candidate = found
        pieces.append(run[done : groups[i][0]])
        pieces.append(mask_pan(candidate))
        done = groups[j][1]
        i = j + 1
    pieces.append(run[done:])
    return "".join(pieces)


def _normalise_key(key: str) -> str:
    return re.sub(r"[\s_-]", "", key).lower()


class Redactor:
    """Scrubs text, JSON-like data and headers; holds the run's known secrets.

    One instance per run: `Redactor(secrets=(client_secret, token, ...))`. `add_secret` takes
    secrets learned later (a token issued mid-run). Thread-safe: the sink calls it from its thread.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._secret_pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str | None) -> None:
        """Redact this value (and its URL-encoded forms) wherever it appears from now on."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
        with self._lock:
            merged = set(self._secrets) | forms
            self._secrets = tuple(sorted(merged, key=len, reverse=True))
            self._secret_pattern = re.compile("|".join(re.escape(value) for value in self._secrets))

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def secrets_only(self, text: str) -> str:
        """Replace only the known secrets: safe on any text, JSON or markup, without touching its syntax."""
        pattern = self._secret_pattern
        return pattern.sub(REDACTED, text) if pattern is not None and text else text

    def secrets_only_in(self, value: Any) -> Any:
        """JSON data with only the known secrets replaced in every string (keys included)."""
        if isinstance(value, dict):
            return {self.secrets_only(str(key)): self.secrets_only_in(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.secrets_only_in(item) for item in value]
        return self.secrets_only(value) if isinstance(value, str) else value

    def text(self, text: str) -> str:
        """Scrub free text: a log line, a non-JSON body, a curl command, an exception message."""
        if not text:
            return text
        pattern = self._secret_pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        text = _HEADER_LINE.sub(_header_line, text)
        text = _JWT.sub(REDACTED, text)
        text = _SCHEMED_CREDENTIAL.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        text = _SECRET_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
        text = _CARD_VALUE.sub(_card_value, text)
        text = _URL_USERINFO.sub(lambda m: m.group(1), text)
        text = _CURL_USER.sub(lambda m: m.group(0) if is_placeholder(m.group(2)) else f"{m.group(1)}{REDACTED}", text)
        return _DIGIT_RUN.sub(_mask_run, text)

    def data(self, value: Any, _depth: int = 0) -> Any:
        """Scrub JSON-like data: card-verification and expiry keys dropped, secret values replaced,
        every string scrubbed as text, integers that are PANs masked, anything nested deeper than
        MAX_DEPTH replaced by CUT. Returns a new structure."""
        if isinstance(value, (Mapping, list, tuple)) and _depth >= MAX_DEPTH:
            return CUT
        if isinstance(value, Mapping):
            result: dict[str, Any] = {}
            for key, item in value.items():
                name = _normalise_key(str(key))
                if name in _CARD_VERIFICATION_KEYS or name in _EXPIRY_KEYS:
                    continue
                if name in _SECRET_KEYS and item not in (None, ""):
                    result[str(key)] = REDACTED
                elif str(key).lower() in _CREDENTIAL_HEADERS and isinstance(item, str):
                    result[str(key)] = _credential(item)
                else:
                    result[str(key)] = self.data(item, _depth + 1)
            return result
        if isinstance(value, (list, tuple)):
            return [self.data(item, _depth + 1) for item in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            digits = str(abs(value))
            if 12 <= len(digits) <= 19 and luhn_valid(digits):
                return mask_pan(digits)
            return value
        if isinstance(value, float):
            return value
        return self.text(str(value))

    def headers(self, headers: Any) -> dict[str, str]:
        """Scrub HTTP headers given as a mapping (values str or list) or as (name, value) pairs."""
        result: dict[str, str] = {}
        for name, value in _header_items(headers):
            if name.lower() in _CREDENTIAL_HEADERS:
                redacted = _credential(value)
            else:
                redacted = self.text(value)
            result[name] = f"{result[name]}, {redacted}" if name in result else redacted
        return result

    def body(self, body: Any, limit: int = 65536) -> str | None:
        """A request or response body as redacted text: JSON is scrubbed as data (so a CVV is
        dropped, not just hidden) and re-serialised; anything else is scrubbed as text.
        Bodies longer than `limit` characters are cut, saying so."""
        if body is None:
            return None
        if isinstance(body, (bytes, bytearray, memoryview)):
            raw = bytes(body)
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                return f"<{len(raw)} bytes of binary data>"
        if isinstance(body, str):
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, or too deep to parse: scrubbed as text
                text = self.text(body)
            else:
                text = json.dumps(self.data(parsed), ensure_ascii=False)
        else:
            text = json.dumps(self.data(body), ensure_ascii=False, default=str)
        if len(text) > limit:
            text = f"{text[:limit]}... [truncated: {len(text) - limit} more characters]"
        return text


def hidden_fields(value: Any, pointer: str = "") -> list[str]:
    """JSON pointers of what `Redactor.data` drops or masks in structured data: card verification and
    expiry (dropped), secret values, PANs (masked). What a reproduction must put back from the
    documented test data (conformance replay does) before a request is the one that was sent."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            name = _normalise_key(str(key))
            secret = name in _SECRET_KEYS and item not in (None, "")
            if name in _CARD_VERIFICATION_KEYS or name in _EXPIRY_KEYS or secret:
                found.append(here)
            else:
                found.extend(hidden_fields(item, here))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found.extend(hidden_fields(item, f"{pointer}/{index}"))
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        if _default.data(value) != value:
            found.append(pointer)
    return found


_PLACEHOLDER = re.compile(r"^[\"']?(?:\$[A-Z][A-Z0-9_]*:?)+[\"']?$")


def is_placeholder(value: str) -> bool:
    """A shell variable standing for a secret (`$TOKEN`, `"$CLIENT_ID:$CLIENT_SECRET"`): safe to show.
    Reproductions put these where the run's own credentials were, so a pasted command works once they
    are exported; nothing else in a credential's place is ever shown."""
    return bool(_PLACEHOLDER.match(value.strip()))


def _credential(value: str) -> str:
    scheme = _AUTH_SCHEME.match(value)
    if scheme and is_placeholder(value[scheme.end() - 1 :]):
        return value
    return f"{scheme.group(1)} {REDACTED}" if scheme else REDACTED


def _header_line(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2)}{_credential(match.group(3))}"


def _card_value(match: re.Match[str]) -> str:
    value, escape = match.group(3), match.group(2)  # quoted as the key is, so escaped JSON stays JSON
    return match.group(1) + (f'{escape}"{REDACTED}{escape}"' if value.startswith(("{", '"', "\\")) else REDACTED)


def _header_items(headers: Any) -> Iterator[tuple[str, str]]:
    if not headers:
        return
    items = headers.items() if hasattr(headers, "items") else headers
    if hasattr(headers, "multi_items"):  # httpx.Headers: keep repeated headers
        items = headers.multi_items()
    for name, value in items:
        values = value if isinstance(value, (list, tuple)) else [value]
        for single in values:
            yield str(name), single.decode("latin-1") if isinstance(single, bytes) else str(single)


_default = Redactor()


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Scrub free text with pattern-based rules and the given known secrets."""
    return (Redactor(secrets) if secrets else _default).text(text)


def redact_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Scrub JSON-like data with pattern-based rules and the given known secrets."""
    return (Redactor(secrets) if secrets else _default).data(value)


def redact_headers(headers: Any, secrets: Iterable[str] = ()) -> dict[str, str]:
    """Scrub HTTP headers with pattern-based rules and the given known secrets."""
    return (Redactor(secrets) if secrets else _default).headers(headers)


class RedactingStream(io.TextIOBase):
    """A text stream that scrubs what passes through it before the wrapped stream sees it.

    Text is held until a line ends (or flush), so a PAN or token split over two write() calls
    is still caught; rich renders a whole frame per write and flushes after it.
    """

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        super().__init__()
        self.stream = stream
        self.redactor = redactor
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            cut = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
            if cut >= 0:
                ready, self._pending = self._pending[: cut + 1], self._pending[cut + 1 :]
                self.stream.write(self.redactor.text(ready))
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.stream.write(self.redactor.text(self._pending))
                self._pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")

    def writable(self) -> bool:
        return True


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs each record's message (attach it to handlers)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        return True


@contextlib.contextmanager
def redacted_stdio(redactor: Redactor) -> Iterator[Redactor]:
    """Scrub everything printed to sys.stdout and sys.stderr (and logged to the root handlers) while active."""
    saved = sys.stdout, sys.stderr
    out, err = RedactingStream(saved[0], redactor), RedactingStream(saved[1], redactor)
    log_filter = RedactingFilter(redactor)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(log_filter)
    sys.stdout, sys.stderr = out, err
    try:
        yield redactor
    finally:
        for stream in (out, err):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved
        for handler in handlers:
            handler.removeFilter(log_filter)
