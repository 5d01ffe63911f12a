"""``tokend serve``: run the HTTP API on uvicorn (server modules imported inside, as in `admin`).

Every failure to start is one ``error:`` line and exit status 1, so that a person
reads why and a supervisor restarts it: the port is checked and bound before
anything starts (uvicorn would say a port in use in several log lines, with status 3).
"""

import contextlib
import logging
import os
import socket
import sys
from collections.abc import Callable
from typing import Annotated, NoReturn

import typer

from tokend import __version__
from tokend.cli.output import fail, say

WORKER_HEALTHCHECK_S = 60


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on. [TOKEND_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on. [TOKEND_PORT]")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes. [TOKEND_WORKERS]")
    ] = None,
) -> None:
    """Run the API server (creates and migrates an empty SQLite database)."""
    # Read before the settings are (they may be what fails to start): with JSON logs,
    # even the reason tokend did not start is a JSON line.
    failed = _fail_as_json if _json_requested() else fail
    if port is not None and not 1 <= port <= 65535:
        failed(f"--port must be between 1 and 65535, not {port}")

    from tokend.cli.operator_errors import errors_as_messages
    from tokend.http.log_redaction import uvicorn_log_config
    from tokend.http.protocol import HttpLimits, JsonErrorHttpToolsProtocol, ServeConfig
    from tokend.http.serving import StartupFailed, run
    from tokend.metrics import shared_between_workers
    from tokend.settings import Settings
    from tokend.storage.engine import make_engine
    from tokend.storage.migrate import ensure_current

    with errors_as_messages(failed):
        settings = Settings()
    failed = _fail_as_json if settings.log_format == "json" else fail
    with errors_as_messages(failed):
        # Once here, before the workers start, so they never race to migrate.
        engine = make_engine(settings.database_url)
        try:
            ensure_current(engine)
        finally:
            engine.dispose()
    host = host or settings.host
    port = port if port is not None else settings.port
    workers = workers or settings.workers
    # The app (in each worker) reads its settings from the environment: the address
    # chosen here must reach it, or links built on base_url (the /device page a device
    # login names, invite links) would name the default port instead of this one.
    os.environ["TOKEND_HOST"] = host
    os.environ["TOKEND_PORT"] = str(port)
    listener = _listen(host, port, failed)
    _raise_open_file_limit()
    database = engine.url.render_as_string(hide_password=True)
    proxies = settings.trusted_proxy_list
    config = ServeConfig(
        "tokend.app:create_app",
        http_limits=HttpLimits(
            max_head_bytes=settings.max_header_bytes,
            head_timeout_s=settings.header_timeout_s,
            max_connections=settings.max_connections,
        ),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=uvicorn_log_config(settings.log_format),
        log_format=settings.log_format,
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
    banner = f"tokend {__version__}: database {database}, {workers} worker(s), http://{host}:{port}"
    if settings.log_format == "json":
        logging.getLogger("tokend.serve").info("%s", banner)
    else:
        say(banner, err=True)
    try:
        with shared_between_workers(workers):
            run(config, listener)
    except StartupFailed as exc:
        failed(str(exc))


def _json_requested() -> bool:
    # Settings() reads .env too; this is only for failures before it has been read.
    return os.environ.get("TOKEND_LOG_FORMAT", "").strip().lower() == "json"


def _fail_as_json(message: str) -> NoReturn:
    from tokend.http.log_format import json_line

    print(json_line(message, level="error"), file=sys.stderr, flush=True)
    raise typer.Exit(1)


def _listen(host: str, port: int, fail: Callable[[str], NoReturn]) -> socket.socket:
    """The listening socket, bound here so that a port in use or an unknown address
    is said in one line before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        fail(f"cannot listen on {host}:{port}: {reason[:1].lower()}{reason[1:]}")
    sock.set_inheritable(True)
    return sock


def _raise_open_file_limit() -> None:
    # Every connection is an open file; the usual soft limit of 1,024 is far below
    # what a worker can serve, and the hard limit is the operator's to choose.
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit is refused (macOS): the soft one stays.
    with contextlib.suppress(ValueError, OSError):
        if soft != hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
