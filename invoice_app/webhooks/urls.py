"""Which addresses a webhook may be sent to: https, and never this network.

An endpoint's URL is a user's input, and the app calls it from inside the
network: a URL naming (or resolving to) a loopback, private, link-local or
otherwise non-public address would let anyone with a billing admin's rights
reach internal services. So a URL must be https and every address its host
resolves to must be public; checked when the endpoint is saved, and again at
each delivery on the very addresses the connection then uses (transport.py):
a name that resolves to a public address for the check and to a private one a
moment later (DNS rebinding) is refused, not followed. WEBHOOK_ALLOW_PRIVATE=1
lifts both rules, for development and tests (a receiver on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

URL_MAX = 2000


class UnsafeUrl(ValueError):
    """Why a URL cannot be a webhook endpoint, in plain words."""


def check(url: str) -> str:
    """url, if a webhook may be sent there; else UnsafeUrl saying why."""
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    if len(url) > URL_MAX:
        raise UnsafeUrl(f"The URL is longer than {URL_MAX} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("This is not a URL.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise UnsafeUrl("The URL must start with https:// and name a host.")
    if parts.username or parts.password:
        raise UnsafeUrl("The URL must not carry a user name or password.")
    if not allow_private:
        public_addresses(parts.hostname, port or 443)
    return url


def public_addresses(host: str, port: int) -> list[tuple]:
    """getaddrinfo() of host, if every address it names is public; else UnsafeUrl.

    Every address, not only the first: a connection may try each of them.
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"The host {host} cannot be found.") from None
    for *_, address in found:
        ip = ipaddress.ip_address(address[0].split("%", 1)[0])
        if not ip.is_global:
            raise UnsafeUrl(
                f"The host {host} is on a private, loopback or link-local "
                f"address ({ip}); webhooks go to public addresses only."
            )
    return found
