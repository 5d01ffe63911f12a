"""``tokend events``: the audit log of the logged-in user's tokens."""

from typing import Annotated

import typer
from rich.table import Table

from tokend.cli import times
from tokend.cli.output import Format, FormatOption, console, print_json, say
from tokend.cli.remote import logged_in


def events(
    limit: Annotated[int, typer.Option(min=1, help="Show the newest N events.")] = 50,
    fmt: Format = FormatOption,
) -> None:
    """What happened to your tokens, newest first: created, revoked, rotated, leaked."""
    with logged_in() as client:
        found = list(client.events(limit))
    if fmt is Format.JSON:
        print_json([event.model_dump(mode="json", by_alias=True) for event in found])
        return
    if not found:
        say("No events.")
        return
    now = times.now()
    table = Table("when", "event", "token", "id", "from", box=None)
    for event in found:
        table.add_row(
            times.relative(event.created_at, now),
            event.type,
            event.token.name if event.token else "",
            event.token_id or "",
            " ".join(part for part in (event.ip, event.user_agent) if part),
        )
    console.print(table, highlight=False)
