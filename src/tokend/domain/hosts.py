"""Which hosts are this machine: where tokend trusts plain connections (an identity
provider under test, a local mail relay) that anywhere else could be read or forged
on the way."""

import ipaddress


def is_loopback(host: str) -> bool:
    """``localhost``, or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
