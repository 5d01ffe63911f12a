"""The id of the request being served: made here (or taken from a trusted proxy), held
in a context variable for the log lines written while it is served, and sent back as
``X-Request-Id``.

A made id is 64 random bits written as two groups of 8 hex digits: unique enough to
find one request among billions, and no run of 16 letters and digits, which the log
filter (`tokend.http.log_redaction`) would take for part of a secret. It comes from a
per-process generator seeded from the OS (a third of the cost of ``os.urandom``):
an id is a label, not a secret, so guessing the next one gains nothing.
"""

import ipaddress
import os
import random
import re
from contextvars import ContextVar
from functools import lru_cache

from tokend.http.log_redaction import redact

HEADER = b"x-request-id"
PEER_KEY = "tokend.peer"
"""Where `tokend serve` keeps the connection's own address in the scope when it
believes X-Forwarded-For, which replaces ``scope["client"]``
(`tokend.http.protocol.ServeConfig`)."""
MAX_LENGTH = 128
# What a proxy's id may hold (nginx's $request_id, Envoy's UUIDs, Traefik's, an ALB's
# "Root=1-..."): nothing that could break a log line or a header.
_SANE = re.compile(f"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")
# A whole run of letters and digits that is all hex digits.
_HEX_RUN = re.compile("(?<![0-9A-Za-z])[0-9A-Fa-f]+(?![0-9A-Za-z])")

current: ContextVar[str | None] = ContextVar("tokend_request_id", default=None)
"""The id of the request this code runs for (None outside a request). Set once per
request, in the request's own task, so it needs no reset: the task's context ends
with it."""

_random = random.Random(os.urandom(16))  # noqa: S311 (a label, see above)


def _reseed() -> None:
    _random.seed(os.urandom(16))


# A forked child would otherwise repeat its parent's ids (uvicorn's workers are
# spawned, but an embedding may fork).
os.register_at_fork(after_in_child=_reseed)


def new() -> str:
    """A fresh id, such as ``3f9c0a1e-77d2b640``."""
    # bytes.hex with a separator: five times faster than formatting two halves.
    return _random.getrandbits(64).to_bytes(8).hex("-", 4)


def accepted(value: bytes) -> str | None:
    """A proxy's id, if it is one to keep: 1 to `MAX_LENGTH` characters of
    ``[A-Za-z0-9._:-]`` that cannot be part of a secret.

    The id is logged as it is, unredacted (it is how lines are found), so an id the
    log filter would redact (a proxy passing on what its client sent, a token say)
    is refused. Runs of hex digits are kept whatever their length: nginx's
    ``$request_id`` and UUIDs are made of them, and 16 characters of a secret are all
    hex digits once in billions of tries, which a client cannot choose.
    """
    if len(value) > MAX_LENGTH:
        return None
    text = value.decode("latin-1")
    if not _SANE.fullmatch(text) or redact(_HEX_RUN.sub("-", text)) != _HEX_RUN.sub("-", text):
        return None
    return text


class TrustedProxies:
    """The addresses whose ``X-Request-Id`` is believed: ``TOKEND_TRUSTED_PROXIES``,
    the same networks whose ``X-Forwarded-For`` is."""

    def __init__(self, networks: list[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def __contains__(self, host: object) -> bool:
        return isinstance(host, str) and _trusted(self._networks, host)


@lru_cache(maxsize=1024)
def _trusted(
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], host: str
) -> bool:
    # Cached: a proxy sends every request from the same few addresses.
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a Unix socket's peer, or no address at all
    return any(address in network for network in networks)
