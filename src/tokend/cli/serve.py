"""``tokend serve``: run the HTTP API on uvicorn (server modules imported inside, as in `admin`)."""

from typing import Annotated

import typer

from tokend import __version__
from tokend.cli.output import say

WORKER_HEALTHCHECK_S = 60


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on. [TOKEND_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on. [TOKEND_PORT]")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes. [TOKEND_WORKERS]")
    ] = None,
) -> None:
    """Run the API server (creates and migrates an empty SQLite database)."""
    import uvicorn

    from tokend.api.http_protocol import JsonErrorHttpToolsProtocol
    from tokend.api.log_redaction import uvicorn_log_config
    from tokend.cli.operator_errors import errors_as_messages
    from tokend.metrics import shared_between_workers
    from tokend.settings import Settings
    from tokend.storage.engine import make_engine
    from tokend.storage.migrate import ensure_current

    with errors_as_messages():
        settings = Settings()
        # Once here, before the workers start, so they never race to migrate.
        engine = make_engine(settings.database_url)
        try:
            ensure_current(engine)
        finally:
            engine.dispose()
    host = host or settings.host
    port = port if port is not None else settings.port
    workers = workers or settings.workers
    database = engine.url.render_as_string(hide_password=True)
    proxies = settings.trusted_proxy_list
    say(
        f"tokend {__version__}: database {database}, {workers} worker(s), http://{host}:{port}",
        err=True,
    )
    with shared_between_workers(workers):
        uvicorn.run(
            "tokend.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            log_config=uvicorn_log_config(),
            http=JsonErrorHttpToolsProtocol,
            server_header=False,
            # uvicorn kills a worker that has not answered its supervisor within 5 s;
            # on a busy machine, starting one (imports included) can take longer.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            # uvicorn would believe X-Forwarded-For from 127.0.0.1 (or $FORWARDED_ALLOW_IPS),
            # letting any local client choose the address its failures count against:
            # tokend believes only the proxies it is given, and by default none.
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies,
        )
