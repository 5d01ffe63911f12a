"""Shared output helpers: JSON for scripts, Rich for people, errors on stderr.

Kept light (no server imports): every command, the token holders' too, loads it.
"""

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = typer.Option(Format.TEXT, "--format", help="text for people, json for scripts.")


def print_json(data: Any) -> None:
    # Plain print: scripts parse stdout, so no Rich markup or wrapping.
    print(json.dumps(data, indent=2, ensure_ascii=False))


def say(message: str, *, err: bool = False) -> None:
    """A line as written: no markup (names may hold brackets), no colouring, no wrapping."""
    (err_console if err else console).print(message, markup=False, highlight=False, soft_wrap=True)


def fail(message: str, *, usage: bool = False) -> NoReturn:
    """One line on stderr, then exit 1 (or 2, the usual status for a usage error)."""
    say(f"error: {message}", err=True)
    raise typer.Exit(2 if usage else 1)


def render(fmt: Format, data: dict[str, Any], text: Callable[[], None]) -> None:
    if fmt is Format.JSON:
        print_json(data)
    else:
        text()
