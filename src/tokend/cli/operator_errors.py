"""Failures of the operator commands, which run the server's code in-process."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from tokend.cli.output import fail
from tokend.domain.errors import TokendError


@contextmanager
def errors_as_messages(fail: Callable[[str], NoReturn] = fail) -> Iterator[None]:
    """Turn expected failures into one line on stderr (written by ``fail``) and exit
    status 1."""
    try:
        yield
    except TokendError as exc:
        fail(str(exc))
    except ValidationError as exc:
        # Settings: say which variable is wrong, never its value (it may be the pepper).
        problems = "; ".join(
            f"TOKEND_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        fail(f"invalid configuration: {problems}")
    except DBAPIError as exc:
        fail(f"the database is unreachable or refused the request: {_first_line(exc.orig or exc)}")


def _first_line(exc: BaseException) -> str:
    # The driver's own words ("connection refused", "database does not exist"),
    # without the SQL and parameters SQLAlchemy appends.
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
