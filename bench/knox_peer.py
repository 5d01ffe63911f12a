"""The django-rest-knox peer: its own venv, a fresh database and token, the gunicorn command.

``python -m bench.knox_peer`` builds (or checks) the venv on its own; the HTTP benchmark
calls the same functions.
"""

import hashlib
import os
import subprocess
import venv
from pathlib import Path

from bench.servers import HOST, BenchError, progress

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR / "knox"
REQUIREMENTS = PROJECT_DIR / "requirements.txt"
VENV_DIR = BENCH_DIR / ".venv-knox"
# Written last, after a successful install: holds the hash of the requirements it
# installed, so a changed pin rebuilds and an interrupted build is not trusted.
STAMP = VENV_DIR / "bench-installed.sha256"

# gunicorn's default sync worker: one request at a time per process, the standard
# deployment for Django on gunicorn. Two of them, like tokend's two workers.
WORKERS = 2
WORKER_CLASS = "sync"


def venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def ensure_venv() -> Path:
    """Create bench/.venv-knox with the pinned packages, unless it is already there."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and venv_python().exists():
        progress(f"knox venv up to date ({VENV_DIR})")
        return venv_python()
    progress(f"creating knox venv {VENV_DIR} (first run: a minute or so)")
    # The same interpreter as tokend's venv, so both sides run the same Python.
    venv.EnvBuilder(clear=True, symlinks=True, with_pip=True).create(VENV_DIR)
    progress(f"installing {', '.join(pinned_packages())} from PyPI")
    _check_call([str(venv_python()), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)])
    STAMP.write_text(wanted + "\n")
    progress("knox venv ready")
    return venv_python()


def pinned_packages() -> list[str]:
    lines = (line.strip() for line in REQUIREMENTS.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def environment(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DJANGO"))}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    env["DJANGO_SETTINGS_MODULE"] = "knoxbench.settings"
    env["KNOX_BENCH_DB"] = str(database)
    return env


def prepare_database(database: Path) -> str:
    """Migrate a fresh database and return a knox token for its one user."""
    progress(f"migrating knox database {database} and creating a token")
    finished = subprocess.run(
        [str(venv_python()), str(PROJECT_DIR / "prepare.py")],
        env=environment(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise BenchError(f"knox prepare failed:\n{finished.stderr}")
    return finished.stdout.strip()


def gunicorn_command(port: int) -> list[str]:
    return [
        str(venv_python()),
        "-m",
        "gunicorn",
        "knoxbench.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={WORKERS}",
        f"--worker-class={WORKER_CLASS}",
        # tokend (uvicorn) logs one access line per request; gunicorn logs none by
        # default. Logging here too keeps that cost on both sides.
        "--access-logfile=-",
        "--error-logfile=-",
        "--log-level=info",
        # gunicorn 25+ opens a control socket under ~/.gunicorn by default: shared
        # by every gunicorn of the user, and nothing a benchmark needs.
        "--no-control-socket",
    ]


def _check_call(command: list[str]) -> None:
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{finished.stdout}{finished.stderr}")


if __name__ == "__main__":
    print(ensure_venv())
