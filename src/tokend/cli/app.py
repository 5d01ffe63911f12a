"""The command tree; each group lives in a module of its own."""

from typing import Annotated, Any

import typer
from typer.core import TyperOption

from tokend import __version__
from tokend.cli import account, admin, db, events, serve, tokens, webhooks

app = typer.Typer(
    name="tokend",
    help="Self-hosted personal access tokens, Vercel-API compatible.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"tokend {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Show the version."),
    ] = False,
) -> None:
    """Self-hosted personal access tokens, Vercel-API compatible."""


def _no_type_for_flags() -> None:
    """Typer 0.28+ shows a value type for options that take no value (`--help <bool>`,
    `--yes <bool>`): show none for flags, as click and older Typers do."""
    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None:  # an older Typer: it shows none already
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        result: str | None = shown(self, ctx)
        return result

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_for_flags()
app.command("login", rich_help_panel="Token holders")(account.login)
app.command("logout", rich_help_panel="Token holders")(account.logout)
app.command("whoami", rich_help_panel="Token holders")(account.whoami)
app.add_typer(tokens.app, name="tokens", rich_help_panel="Token holders")
app.add_typer(webhooks.app, name="webhooks", rich_help_panel="Token holders")
app.command("events", rich_help_panel="Token holders")(events.events)
app.command("serve", rich_help_panel="Operators")(serve.serve)
app.add_typer(db.app, name="db", rich_help_panel="Operators")
app.add_typer(admin.app, name="admin", rich_help_panel="Operators")


def main() -> None:
    app()
