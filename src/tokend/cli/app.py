"""The command tree; each group lives in a module of its own."""

import typer

from tokend.cli import admin, db, serve

app = typer.Typer(
    name="tokend",
    help="Self-hosted personal access tokens, Vercel-API compatible.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(admin.app, name="admin")


def main() -> None:
    app()
