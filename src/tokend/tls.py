"""The certificates tokend trusts when it connects out (webhook receivers, the SMTP
server): the system's store, where operators add a private CA (and what
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` name), and certifi's bundle besides, so a
machine without a system store still reaches public hosts."""

import ssl

import certifi


def client_context() -> ssl.SSLContext:
    """A client context that verifies the peer's certificate and host name."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    return context
