"""One row of the benchmark table, and the table itself."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """A measured figure beside the goal it is held to."""

    section: str  # e.g. "1. hot verify"
    measure: str  # what was measured, e.g. "tokend / floor"
    figure: str  # the value, formatted, e.g. "0.62" or "0.41 ms"
    goal: str = ""  # e.g. ">= 0.5"; empty for context rows (raw rates, counts)
    met: bool | None = None  # None for context rows


def print_table(rows: Sequence[Row], title: str) -> None:
    # Imported here: only the printing needs rich (it is in tokend's venv).
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name, justify in (("section", "left"), ("measure", "left"), ("figure", "right"),
                          ("goal", "left"), ("met", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    section = None
    for row in rows:
        if section is not None and row.section != section:
            table.add_section()
        met = "" if row.met is None else ("yes" if row.met else "NO")
        table.add_row(row.section if row.section != section else "", row.measure, row.figure,
                      row.goal, met)  # fmt: skip
        section = row.section
    # Wide enough for the table whatever the terminal (or a file) is.
    Console(width=140).print(table, highlight=False)
