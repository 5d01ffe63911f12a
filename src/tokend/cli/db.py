"""``tokend db``: schema migrations."""

import typer

from tokend.cli.output import console, errors_as_messages
from tokend.settings import Settings
from tokend.storage import migrate
from tokend.storage.engine import make_engine

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply all migrations to the database in TOKEND_DATABASE_URL."""
    with errors_as_messages():
        engine = make_engine(Settings().database_url)
        try:
            before = migrate.current_revision(engine)
            migrate.upgrade(engine)
            after = migrate.current_revision(engine)
        finally:
            engine.dispose()
    if before == after:
        console.print(f"Database already at revision {after}.")
    else:
        console.print(f"Database upgraded from {before or 'empty'} to {after}.")
