"""The saved login is written safely: never through a file or symlink someone planted,
never into a folder that someone else could change (refused, as ssh refuses)."""

import os
import stat
from pathlib import Path

import pytest

from tests.cli.conftest import Holder, one_error_line
from tests.conftest import Account
from tests.support import Server
from tokend.cli import credentials


@pytest.fixture
def private_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """tokend's config folder (0700, under $XDG_CONFIG_HOME), and a file outside it
    that an attacker would like overwritten."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    folder = tmp_path / "config" / "tokend"
    folder.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    return folder, victim


def test_save_never_writes_through_a_planted_symlink(private_folder: tuple[Path, Path]) -> None:
    folder, victim = private_folder
    # The old temporary name was .config.toml.<pid>: another user could plant it.
    (folder / f".config.toml.{os.getpid()}").symlink_to(victim)

    path = credentials.save("http://127.0.0.1:8000", "tkd_secret")

    assert victim.read_text() == "precious\n"
    assert not path.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.load().token == "tkd_secret"
    leftovers = {p.name for p in folder.iterdir()} - {"config.toml", f".config.toml.{os.getpid()}"}
    assert leftovers == set()


def test_save_replaces_a_symlinked_config_file_not_its_target(
    private_folder: tuple[Path, Path],
) -> None:
    folder, victim = private_folder
    (folder / "config.toml").symlink_to(victim)

    credentials.save("http://127.0.0.1:8000", "tkd_secret")

    assert victim.read_text() == "precious\n"
    assert not (folder / "config.toml").is_symlink()


@pytest.mark.parametrize("which", ["folder", "parent"])
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777], ids=["world", "group", "sticky"])
def test_a_folder_others_can_write_to_is_refused(
    server: Server, alice: Account, holder: Holder, which: str, mode: int
) -> None:
    folder = holder.config_file.parent
    folder.mkdir(parents=True, mode=0o700)
    unsafe = folder if which == "folder" else folder.parent
    unsafe.chmod(mode)

    error = one_error_line(holder.run("login", "--url", server.url, stdin=alice.token + "\n"))

    assert f"{unsafe} is writable by other users" in error
    assert f"chmod go-w {unsafe}" in error
    assert alice.token not in error
    assert not holder.config_file.exists()
    assert list(folder.iterdir()) == []


def test_a_saved_login_in_a_folder_that_became_unsafe_is_not_used(
    server: Server, alice: Account, holder: Holder
) -> None:
    holder.login(server, alice)
    holder.config_file.parent.chmod(0o777)

    for args in (("whoami",), ("tokens", "ls"), ("tokens", "rotate", "current")):
        error = one_error_line(holder.run(*args))
        assert "is writable by other users" in error

    holder.config_file.parent.chmod(0o700)  # fixed as told: works again
    assert holder.run("whoami").returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder away needs root")
def test_a_folder_of_another_user_is_refused(
    server: Server, alice: Account, holder: Holder
) -> None:
    folder = holder.config_file.parent
    folder.mkdir(parents=True, mode=0o700)
    os.chown(folder, 65534, 65534)

    error = one_error_line(holder.run("login", "--url", server.url, stdin=alice.token + "\n"))

    assert f"{folder} belongs to another user (uid 65534)" in error
    assert not holder.config_file.exists()
