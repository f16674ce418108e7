"""Who is asking: the client's address, for every limit kept per address (wrong codes, staff
logins) and for the audit log.

Behind the reverse proxy (README: Deploying) every request arrives from the proxy, and the
client's own address is in X-Forwarded-For, which nginx's `$proxy_add_x_forwarded_for` extends
with the address it saw. That header is trusted only when the request comes from one of
`settings.PINGYI_TRUSTED_PROXIES` (addresses or networks, default the local host): anything
else may be typed by the client, and a guesser who could pick a fresh address per try would
never be limited. The header is read from the right: entries added by trusted proxies are
skipped, and the first one that is not a trusted proxy is the client (a client-supplied prefix
stays to the left and is never reached)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

DEFAULT_TRUSTED_PROXIES = ("127.0.0.1", "::1")
MAX_LENGTH = 64  # the width of the columns that store an address


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    nets: list[Network] = []
    for item in proxies:
        try:
            nets.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue  # a host name or typo never matches; settings check nothing further
    return tuple(nets)


def _trusted(address: str, proxies: Iterable[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(proxies)))


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy the nearest untrusted
    X-Forwarded-For entry. At most 64 characters; "unknown" when there is none."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "unknown")
    proxies = getattr(settings, "PINGYI_TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES)
    if not _trusted(remote, proxies):
        return remote[:MAX_LENGTH]
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:MAX_LENGTH]
    # Only proxies (or no header): the request was made on the proxy's machine itself.
    return (hops[0] if hops else remote)[:MAX_LENGTH]
