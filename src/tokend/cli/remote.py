"""What the token holders' commands share: a client from the saved login, and errors."""

from collections.abc import Iterator
from contextlib import contextmanager

from tokend.cli import credentials
from tokend.cli.output import fail
from tokend.client import AuthenticationFailed, Client, ClientError


@contextmanager
def client_errors() -> Iterator[None]:
    """Every failure of a request as one line on stderr, exit status 1."""
    try:
        yield
    except AuthenticationFailed as exc:
        fail(f"{exc.message} Log in again with 'tokend login' (or set TOKEND_TOKEN).")
    except ClientError as exc:
        fail(str(exc))
    except credentials.CredentialsError as exc:
        fail(str(exc))


@contextmanager
def logged_in() -> Iterator[Client]:
    """A client for the saved (or ``TOKEND_*``) server and token."""
    with client_errors():
        saved = credentials.load()
        if saved.token is None:
            fail("not logged in; run 'tokend login --url URL' or set TOKEND_TOKEN")
        with Client(saved.url, saved.token) as client:
            yield client
