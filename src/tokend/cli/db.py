"""``tokend db``: schema migrations (server modules imported inside, as in `admin`)."""

import typer

from tokend.cli.output import say

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply all migrations to the database in TOKEND_DATABASE_URL."""
    from tokend.cli.operator_errors import errors_as_messages
    from tokend.settings import Settings
    from tokend.storage import migrate
    from tokend.storage.engine import make_engine

    with errors_as_messages():
        engine = make_engine(Settings().database_url)
        try:
            before = migrate.current_revision(engine)
            migrate.upgrade(engine)
            after = migrate.current_revision(engine)
        finally:
            engine.dispose()
    if before == after:
        say(f"Database already at revision {after}.")
    else:
        say(f"Database upgraded from {before or 'empty'} to {after}.")
