"""Where the mock may send callbacks: the registered URL, its placeholders, and the addresses refused.

A registered URL may name the API and the webhook of each callback with the placeholders `{api}` and
`{webhook}` (`http://127.0.0.1:9000/run-token/{api}/{webhook}`), expanded for every delivery, so that
a receiver routes by path instead of guessing from the body. Link-local addresses (169.254.0.0/16,
fe80::/10) and the cloud metadata service (fd00:ec2::254) are refused always, at registration for
literal addresses and at every delivery for names (a name is resolved again each time; a resolver
that changes its answer between our check and the connection is not defended against).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import urllib.parse

PLACEHOLDERS = ("api", "webhook")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_METADATA = {ipaddress.ip_address("fd00:ec2::254")}


class CallbackTargetError(ValueError):
    """A callback URL the mock will not send to (the message says why)."""


def check_callback_url(url: str | None) -> str | None:
    """The URL, if callbacks may go there (http or https, a host, known placeholders, no forbidden
    literal address); CallbackTargetError otherwise. Names are checked at delivery."""
    if url is None:
        return None
    if not isinstance(url, str):
        raise CallbackTargetError("callback URL must be a string")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CallbackTargetError(f"callback URL must be http:// or https:// with a host, not {url!r}")
    unknown = [name for name in _PLACEHOLDER.findall(url) if name not in PLACEHOLDERS]
    if unknown:
        raise CallbackTargetError(f"callback URL placeholder {{{unknown[0]}}} is not one of {{api}}, {{webhook}}")
    reason = forbidden_address(parsed.hostname)
    if reason:
        raise CallbackTargetError(f"callback URL {url!r} points at {reason}")
    return url


def expand(url: str, api: str, webhook: str, suffix: str = "") -> str:
    """The URL one callback goes to: {api} and {webhook} replaced (quoted for a path), then what the document's
    callback expression adds after the receiver's URL (`{client-url}/status` -> `/status`)."""
    if "{" in url:
        values = {"api": urllib.parse.quote(api, safe=""), "webhook": urllib.parse.quote(webhook, safe="")}
        url = _PLACEHOLDER.sub(lambda match: values[match.group(1)], url)
    if not suffix:
        return url
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def forbidden_address(host: str) -> str | None:
    """Why a literal address may not receive callbacks, or None (also None for a name)."""
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return f"the cloud metadata address {address}"
    if address.is_link_local:
        return f"the link-local address {address} (cloud metadata services live there)"
    return None


async def resolved_problem(url: str, timeout: float) -> str | None:
    """Why a delivery to `url` must not be attempted: its host resolves to a forbidden address."""
    host = urllib.parse.urlsplit(url).hostname or ""
    reason = forbidden_address(host)
    if reason or _is_literal(host):
        return reason
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM), timeout)
    except (TimeoutError, OSError):
        return None  # the connection attempt reports it
    for info in infos:
        reason = forbidden_address(str(info[4][0]))
        if reason:
            return f"{host} resolving to {reason}"
    return None


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True
