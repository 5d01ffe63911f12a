"""`tokend login`, `logout` and `whoami` against a live server, on both databases."""

import stat
import tomllib
from collections.abc import Callable
from typing import Any

import typer.main

from tests.cli.conftest import Holder, one_error_line
from tests.conftest import Account
from tests.support import Server, free_port
from tokend.cli.app import app


def test_login_from_a_pipe_saves_a_private_config(
    server: Server, alice: Account, holder: Holder
) -> None:
    result = holder.run("login", "--url", server.url, stdin=alice.token + "\n")

    assert result.returncode == 0, result.stderr
    assert f"as {alice.username}" in result.stdout
    assert alice.token not in result.stdout + result.stderr
    config = holder.config_file
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert tomllib.loads(config.read_text()) == {"url": server.url, "token": alice.token}
    assert [path.name for path in config.parent.iterdir()] == ["config.toml"]  # no leftovers


def test_whoami_names_user_server_and_token(server: Server, alice: Account, holder: Holder) -> None:
    holder.login(server, alice)

    result = holder.run("whoami")

    assert result.returncode == 0, result.stderr
    assert f"{alice.username} <{alice.username}@localhost>" in result.stdout
    assert f"server: {server.url}" in result.stdout
    assert f"token:  token 'bootstrap', id {alice.token_id}" in result.stdout


def test_login_with_a_bad_token_saves_nothing(
    server: Server, alice: Account, holder: Holder
) -> None:
    wrong = alice.token[:-1] + ("A" if alice.token[-1] != "A" else "B")  # checksum breaks

    error = one_error_line(holder.run("login", "--url", server.url, stdin=wrong))

    assert "tokend login" in error
    assert wrong not in error
    assert not holder.config_file.exists()
    assert "no token given" in one_error_line(holder.run("login", "--url", server.url, stdin=""))


def test_logout_forgets_the_token(server: Server, alice: Account, holder: Holder) -> None:
    holder.login(server, alice)

    assert holder.run("logout").returncode == 0

    assert not holder.config_file.exists()
    assert "not logged in" in one_error_line(holder.run("whoami"))
    assert "nothing to forget" in holder.run("logout").stdout


def test_logout_revoke_revokes_on_the_server(
    server: Server, alice: Account, holder: Holder
) -> None:
    holder.login(server, alice)

    assert holder.run("logout", "--revoke").returncode == 0

    with server.client(alice.token) as http:
        assert http.get("/v2/user").status_code == 401


def test_environment_overrides_the_saved_login(
    server: Server, alice: Account, make_user: Callable[..., Account], holder: Holder
) -> None:
    holder.login(server, alice)
    bob = make_user("bob")

    result = holder.run("whoami", "--format", "json", env={"TOKEND_TOKEN": bob.token})

    assert result.returncode == 0, result.stderr
    assert '"username": "' + bob.username in result.stdout


def test_a_revoked_token_is_one_clear_line(server: Server, alice: Account, holder: Holder) -> None:
    holder.login(server, alice)
    with server.client(alice.token) as http:
        assert http.delete("/v3/user/tokens/current").status_code == 200

    error = one_error_line(holder.run("whoami"))

    assert "revoked" in error
    assert "tokend login" in error
    assert alice.token not in error


def test_an_unreachable_server_is_one_clear_line(holder: Holder) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    error = one_error_line(holder.run("login", "--url", url, stdin="tkd_anything\n"))

    assert f"cannot reach the tokend server at {url}" in error
    assert "tkd_anything" not in error
    assert not holder.config_file.exists()
    unreachable = {"TOKEND_URL": url, "TOKEND_TOKEN": "tkd_anything"}
    assert "cannot reach" in one_error_line(holder.run("tokens", "ls", env=unreachable))


def test_no_option_or_argument_takes_a_secret() -> None:
    # Whatever is on a command line shows in `ps` and lands in shell history, so the
    # token reaches the CLI only through stdin, the prompt, the file or TOKEND_TOKEN.
    def walk(command: Any) -> list[str]:
        names = [param.name or "" for param in command.params]
        for sub in getattr(command, "commands", {}).values():  # a group's commands
            names += walk(sub)
        return names

    names = walk(typer.main.get_command(app))
    assert names  # the walk found the commands
    ids = {"token_id", "token_ids"}  # ids are not secrets
    assert not [name for name in names if "token" in name and name not in ids]
    assert not [name for name in names if "secret" in name or "bearer" in name]
