"""``tokend events``: the audit log of the logged-in user's tokens."""

from typing import Annotated

import typer

from tokend.cli import times
from tokend.cli.output import Column, Format, FormatOption, print_json, print_table, say
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
    columns = [
        Column("when"),
        Column("event"),
        Column("token", fold_to=10),
        Column("id", wrap=False),
        Column("from", fold_to=12),
    ]
    print_table(
        columns,
        [
            (
                times.relative(event.created_at, now),
                event.type,
                event.token.name if event.token else "",
                event.token_id or "",
                " ".join(part for part in (event.ip, event.user_agent) if part),
            )
            for event in found
        ],
    )
