"""Where the CLI keeps the server URL and token: ``$XDG_CONFIG_HOME/tokend/config.toml``.

The file is private to its owner (mode 0600, in a 0700 folder). ``TOKEND_URL`` and
``TOKEND_TOKEN`` override what it holds.
"""

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tokend.client.connection import DEFAULT_URL, TOKEN_VARIABLE, URL_VARIABLE


class CredentialsError(Exception):
    """The config file exists but cannot be used."""


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str | None
    token_source: str  # for messages: where the token came from


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tokend" / "config.toml"


def _read_file(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # The reason, never the content: the file holds a secret.
        reason = exc.strerror if isinstance(exc, OSError) else "not valid TOML"
        raise CredentialsError(
            f"cannot read {path} ({reason}); fix it or run 'tokend login' again"
        ) from None
    return {key: value for key, value in data.items() if isinstance(value, str)}


def load() -> Credentials:
    path = config_path()
    saved = _read_file(path)
    url = os.environ.get(URL_VARIABLE) or saved.get("url") or DEFAULT_URL
    if token := os.environ.get(TOKEN_VARIABLE):
        return Credentials(url, token, TOKEN_VARIABLE)
    if token := saved.get("token"):
        return Credentials(url, token, str(path))
    return Credentials(url, None, "")


def save(url: str, token: str) -> Path:
    """Write the file atomically; it never exists, even briefly, with a wider mode."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # json.dumps of a str is a valid TOML basic string: same quotes, same escapes.
    text = f"url = {json.dumps(url)}\ntoken = {json.dumps(token)}\n"
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # O_CREAT's mode applies to new files only
            file.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def forget() -> Path | None:
    """Remove the file; returns its path, or None when there was none."""
    path = config_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    return path
