"""The command tree; each group lives in a module of its own."""

import typer

from tokend.cli import account, admin, db, events, serve, tokens

app = typer.Typer(
    name="tokend",
    help="Self-hosted personal access tokens, Vercel-API compatible.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("login", rich_help_panel="Token holders")(account.login)
app.command("logout", rich_help_panel="Token holders")(account.logout)
app.command("whoami", rich_help_panel="Token holders")(account.whoami)
app.add_typer(tokens.app, name="tokens", rich_help_panel="Token holders")
app.command("events", rich_help_panel="Token holders")(events.events)
app.command("serve", rich_help_panel="Operators")(serve.serve)
app.add_typer(db.app, name="db", rich_help_panel="Operators")
app.add_typer(admin.app, name="admin", rich_help_panel="Operators")


def main() -> None:
    app()
