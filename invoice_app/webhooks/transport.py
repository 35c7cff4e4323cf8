"""An HTTP session for webhooks that connects only to the addresses it checked.

urls.check() resolves the endpoint's host and refuses private addresses, but
requests would resolve the name again when it connects, and a name under an
attacker's control can answer differently the second time (DNS rebinding:
public for the check, 127.0.0.1 or the cloud's metadata address for the
connection). Here the connection itself resolves once, checks every address
(urls.public_addresses) and connects to those addresses only. TLS still
verifies the certificate against the host name (urllib3 keeps conn.host).
"""

from __future__ import annotations

import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from . import urls


def _connect(conn: HTTPConnection) -> socket.socket:
    """A socket to one of conn's host's checked addresses (each tried in turn)."""
    failure: OSError | None = None
    host = conn._dns_host.strip("[]")  # an IPv6 literal comes bracketed
    for family, kind, proto, _, address in urls.public_addresses(host, conn.port):
        sock = socket.socket(family, kind, proto)
        try:
            for level, option, value in conn.socket_options or ():
                sock.setsockopt(level, option, value)
            if conn.timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(conn.timeout)
            sock.connect(address)
            return sock
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out."
            ) from exc
        except OSError as exc:
            sock.close()
            failure = exc
    raise NewConnectionError(conn, f"Failed to establish a new connection: {failure}")


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect(self)


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect(self)


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


def webhook_session(allow_private: bool) -> requests.Session:
    """A session for sending webhooks; connects to public addresses only unless
    allow_private (WEBHOOK_ALLOW_PRIVATE, development and tests)."""
    session = requests.Session()
    # Proxies from the environment would make the proxy, not us, resolve the
    # name: webhooks go out directly.
    session.trust_env = False
    if not allow_private:
        adapter = _CheckedAdapter()
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session
