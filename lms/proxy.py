"""Which client address to believe: ``X-Forwarded-For`` only as far as ``LMS_TRUSTED_PROXIES`` says.

A forged ``X-Forwarded-For`` sent straight to gunicorn must gain nothing (a fresh address per request would
step around the login limits). So the header is read only when the connection itself comes from a trusted
proxy, and only the hops that trusted proxies appended are believed: walking the list from the right, the
first address that is not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyConfigError(ValueError):
    """``LMS_TRUSTED_PROXIES`` holds something that is not an address or a network."""


def parse_trusted_proxies(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` as networks; empty or unset trusts no proxy at all."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ProxyConfigError(
                f"LMS_TRUSTED_PROXIES: {item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)."
            ) from None
    return tuple(networks)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(remote_addr: str, forwarded_for: str | None, networks: tuple[Network, ...]) -> str:
    """The client's address given the TCP peer, the ``X-Forwarded-For`` header and the trusted proxies."""
    if not networks or not _trusted(remote_addr, networks):
        return remote_addr
    client = remote_addr
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(client, networks):
            break
        try:
            ipaddress.ip_address(hop)
        except ValueError:  # garbage in the header: stop at the last proxy we trust
            break
        client = hop
    return client


class TrustedProxyMiddleware:
    """WSGI middleware: rewrites ``REMOTE_ADDR`` (and the scheme) from trusted proxies' headers only."""

    def __init__(self, app: Callable[..., Any], networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        remote = environ.get("REMOTE_ADDR", "")
        if self.networks and _trusted(remote, self.networks):
            environ["lms.proxy_peer"] = remote
            environ["REMOTE_ADDR"] = client_address(
                remote, environ.get("HTTP_X_FORWARDED_FOR"), self.networks
            )
            proto = (environ.get("HTTP_X_FORWARDED_PROTO") or "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)
