"""Shared output helpers: JSON for scripts, Rich for people, errors on stderr."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from tokend.domain.errors import TokendError

console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = typer.Option(Format.TEXT, "--format", help="text for people, json for scripts.")


def print_json(data: Any) -> None:
    # Plain print: scripts parse stdout, so no Rich markup or wrapping.
    print(json.dumps(data, indent=2, ensure_ascii=False))


def fail(message: str) -> NoReturn:
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Turn expected failures into one line on stderr and exit status 1."""
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


def render(fmt: Format, data: dict[str, Any], text: Callable[[], None]) -> None:
    if fmt is Format.JSON:
        print_json(data)
    else:
        text()
