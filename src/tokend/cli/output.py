"""Shared output helpers: JSON for scripts, Rich for people, errors on stderr.

Kept light (no server imports): every command, the token holders' too, loads it.
"""

import json
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Column as RichColumn
from rich.table import Table
from rich.text import Text

# No ":smile:" emoji codes: names and User-Agents would be rewritten by them.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)


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


def literal(value: object) -> Text:
    """Data (names, ids, addresses, User-Agents) as it is: never read as Rich markup
    (a name like ``[/]`` or ``[link=…]`` stays text), control characters shown escaped."""
    text = "" if value is None else str(value)
    return Text("".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in text))


@dataclass(frozen=True)
class Column:
    header: str
    wrap: bool = True  # False for ids: a cut or wrapped id is a wrong id
    bold: bool = False
    # Long words may be broken across lines too (names, User-Agents: nothing that is
    # typed back as an argument), down to this width.
    fold_to: int | None = None


_GAP = 2  # spaces between columns


def print_table(
    columns: Sequence[Column], rows: Sequence[Sequence[object]], *, header: bool = True
) -> None:
    """Rows of data, aligned. Columns that may wrap wrap between words to fit the
    terminal (or $COLUMNS); nothing is ever cut, and ids never wrap. When the table
    cannot fit that way, or is piped without $COLUMNS, each row is one line (longer
    than the terminal, which wraps it)."""
    cells = [[literal(value) for value in row] for row in rows]
    heads = [column.header if header else "" for column in columns]
    natural = [
        max([cell_len(heads[i])] + [row[i].cell_len for row in cells]) for i in range(len(columns))
    ]
    least = [
        max([natural[i] if not column.wrap else 0] + [cell_len(w) for w in heads[i].split()]
            + ([min(natural[i], column.fold_to)] if column.fold_to is not None else
               [cell_len(w) for row in cells for w in row[i].plain.split()]))
        for i, column in enumerate(columns)
    ]  # fmt: skip
    widths = list(natural)
    columns_set = os.environ.get("COLUMNS", "").strip().isdigit()  # as Rich reads it
    limit = console.width if console.is_terminal or columns_set else None
    gaps = _GAP * (len(widths) - 1)
    # Squeezed only when it then fits: a table squeezed to its narrowest and still too
    # wide is worse than one line per row that the terminal wraps.
    if limit is not None and sum(least) + gaps <= limit:
        excess = sum(widths) + gaps - limit
        while excess > 0:
            # The widest column that may still narrow gives a column's width first.
            width, widest = max(
                (w if w > m else -1, i) for i, (w, m) in enumerate(zip(widths, least, strict=True))
            )
            if width < 0:
                break
            widths[widest] -= 1
            excess -= 1
    table = Table(
        *(
            RichColumn(
                heads[i],
                width=widths[i],
                no_wrap=not column.wrap,
                overflow="fold",
                style="bold" if column.bold else "",
            )
            for i, column in enumerate(columns)
        ),
        box=None,
        pad_edge=False,
        padding=(0, _GAP // 2),
        show_header=header,
        header_style="bold",
        # The table's own width, so that the console's cannot squeeze (or cut) it.
        width=sum(widths) + _GAP * (len(widths) - 1),
    )
    for row in cells:
        table.add_row(*row)
    console.print(table, crop=False, highlight=False)


def fail(message: str, *, usage: bool = False) -> NoReturn:
    """One line on stderr, then exit 1 (or 2, the usual status for a usage error)."""
    say(f"error: {message}", err=True)
    raise typer.Exit(2 if usage else 1)


def render(fmt: Format, data: dict[str, Any], text: Callable[[], None]) -> None:
    if fmt is Format.JSON:
        print_json(data)
    else:
        text()
