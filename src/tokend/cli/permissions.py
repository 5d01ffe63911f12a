"""``tokend admin permissions add|list|remove``: the instance's permission catalogue."""

from typing import Annotated

import typer
from rich.markup import escape

from tokend.cli.operator import operator_services
from tokend.cli.output import Format, FormatOption, console, render, say

app = typer.Typer(
    help="The permissions tokens may be restricted to (tokend's own are always there).",
    no_args_is_help=True,
)


@app.command("add")
def add(
    name: str,
    description: Annotated[str, typer.Option(help="What it lets a token do.")],
    fmt: Format = FormatOption,
) -> None:
    """Add a permission, such as deployments:read, that tokens can then carry."""
    with operator_services() as services:
        made = services.permissions.add(name, description)
    render(
        fmt,
        {"name": made.name, "description": made.description, "createdAt": made.created_at},
        lambda: say(f"Added the permission {made.name}."),
    )


@app.command("list")
def list_(fmt: Format = FormatOption) -> None:
    """tokend's own permissions, then the catalogue's."""
    with operator_services() as services:
        found = services.permissions.list()

    def text() -> None:
        for permission in found:
            console.print(f"[bold]{escape(permission.name)}[/]  {escape(permission.description)}")

    render(
        fmt,
        {"permissions": [{"name": p.name, "description": p.description} for p in found]},
        text,
    )


@app.command("remove")
def remove(name: str, fmt: Format = FormatOption) -> None:
    """Remove a permission from the catalogue: new tokens can no longer ask for it;
    tokens holding it keep it."""
    with operator_services() as services:
        services.permissions.remove(name)
    render(fmt, {"removed": name}, lambda: say(f"Removed the permission {name}."))
