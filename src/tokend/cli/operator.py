"""The services of an operator command, on the database of the environment's
settings, which must be migrated (an empty SQLite file is set up)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokend.bootstrap import Services


@contextmanager
def operator_services() -> Iterator["Services"]:
    # Imported here, so that the token holders' commands start without SQLAlchemy.
    from tokend.bootstrap import bootstrap
    from tokend.cli.operator_errors import errors_as_messages
    from tokend.storage.migrate import ensure_current

    with errors_as_messages():
        services = bootstrap()
        try:
            ensure_current(services.engine)
            yield services
        finally:
            services.close()
