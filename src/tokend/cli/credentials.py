"""Where the CLI keeps the server URL and token: ``$XDG_CONFIG_HOME/tokend/config.toml``.

The file is private to its owner (mode 0600, in a 0700 folder). ``TOKEND_URL`` and
``TOKEND_TOKEN`` override what it holds. As ssh does, a folder that another user could
write to (or that is not the user's) is refused, for reading as for writing: whoever
can swap the file can make the CLI send the token to a server of their choosing, or
read the token being saved.
"""

import json
import os
import stat
import tempfile
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


def _check_folders(folder: Path) -> None:
    """Refuse a config folder, or a folder above it, that others could change."""
    if not hasattr(os, "getuid"):  # pragma: no cover - not a POSIX system
        return
    uid = os.getuid()
    # The folder (and, through a symlink, its target) must be the user's; the folder
    # holding it the user's or root's. None of them writable by group or others.
    checks = [(folder, {uid}), (folder.parent, {uid, 0})]
    real = folder.resolve()
    if real != folder:
        checks.append((real.parent, {uid, 0}))
    for path, owners in checks:
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise CredentialsError(f"cannot use {path} ({exc.strerror})") from None
        if info.st_uid not in owners:
            raise CredentialsError(
                f"{path} belongs to another user (uid {info.st_uid}), who could read or "
                "replace your saved token; use a folder of your own "
                "(set XDG_CONFIG_HOME) or fix its owner"
            )
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise CredentialsError(
                f"{path} is writable by other users, who could read or replace your saved "
                f"token; run 'chmod go-w {path}' (or set XDG_CONFIG_HOME to a private folder)"
            )


def _read_file(path: Path) -> dict[str, str]:
    if path.exists():
        _check_folders(path.parent)
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
    """Write the file atomically; it never exists, even briefly, with a wider mode.

    The content goes to a new file of a random name, created exclusively (never
    through an existing file or symlink), then renamed over the old one.
    """
    path = config_path()
    folder = path.parent
    try:
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise CredentialsError(f"cannot create {folder} ({exc.strerror})") from None
    _check_folders(folder)
    # json.dumps of a str is a valid TOML basic string: same quotes, same escapes.
    text = f"url = {json.dumps(url)}\ntoken = {json.dumps(token)}\n"
    try:
        # O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600, a name nobody can guess.
        descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise CredentialsError(f"cannot write in {folder} ({exc.strerror})") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)  # replaces a symlink at `path`, never its target
    except BaseException as exc:
        Path(partial).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise CredentialsError(f"cannot write {path} ({exc.strerror})") from None
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
