"""What the CLI prints is the data as it is: names and User-Agents are never read as
Rich markup, and ids are never cut, whatever the terminal's width or a pipe.
"""

import json

import pytest

from tests.cli.conftest import Holder
from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services

# Each was read as markup: the first crashed `tokens ls` (MarkupError), the others
# restyled the table, turned into a link or into an emoji.
HOSTILE_NAMES = [
    "[/]",
    "[bold red]PWNED[/] [link=https://evil.example]click[/link]",
    ":smile: [dim]x",
]


@pytest.fixture
def logged_in(server: Server, alice: Account, holder: Holder) -> Holder:
    holder.login(server, alice)
    return holder


def test_token_names_are_printed_literally(
    server: Server, alice: Account, logged_in: Holder
) -> None:
    ids = {}
    with server.client(alice.token) as api:
        for name in HOSTILE_NAMES:
            made = api.post("/v3/user/tokens", json={"name": name})
            assert made.status_code == 200, made.text
            ids[name] = made.json()["token"]["id"]

    listed = logged_in.run("tokens", "ls")
    assert listed.returncode == 0, listed.stderr
    for name in HOSTILE_NAMES:
        assert name in listed.stdout

    for name, token_id in ids.items():
        shown = logged_in.run("tokens", "show", token_id)
        assert shown.returncode == 0, shown.stderr
        assert name in shown.stdout

    created = logged_in.run("tokens", "create", HOSTILE_NAMES[1])
    assert created.returncode == 0, created.stderr
    assert repr(HOSTILE_NAMES[1]) in created.stderr


def test_user_agents_and_names_in_events_are_printed_literally(
    server: Server, alice: Account, logged_in: Holder
) -> None:
    agent = "[bold red]agent[/] [link=https://evil.example]x[/link] :smile:"
    with server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "[/]"}, headers={"User-Agent": agent})
        assert made.status_code == 200, made.text

    shown = logged_in.run("events", "--limit", "1")
    assert shown.returncode == 0, shown.stderr
    assert agent in shown.stdout
    assert "[/]" in shown.stdout


@pytest.mark.parametrize("columns", ["80", "40", ""], ids=["80-columns", "40-columns", "piped"])
def test_ids_are_never_cut(
    server: Server,
    services: Services,
    alice: Account,
    logged_in: Holder,
    columns: str,
) -> None:
    team = services.admin.create_team(f"t-{alice.username}", owner=alice.username)
    made = []
    with server.client(alice.token) as api:
        for name, params in (
            ("a token with a rather long name, as people write them", {}),
            ("deploy", {"teamId": team.id}),
        ):
            answer = api.post("/v3/user/tokens", params=params, json={"name": name})
            assert answer.status_code == 200, answer.text
            made.append(answer.json()["token"]["id"])
    env = {"COLUMNS": columns}  # "" is as if unset: piped output, Rich's default width

    listed = logged_in.run("tokens", "ls", env=env)
    assert listed.returncode == 0, listed.stderr
    words = listed.stdout.split()
    for token_id in (*made, alice.token_id, team.id):
        assert token_id in words, listed.stdout
    # Names wrap between words, and nothing is cut with an ellipsis.
    assert "…" not in listed.stdout
    if columns == "":
        assert len(listed.stdout.splitlines()) == 4  # a header and one line per token

    events = logged_in.run("events", env=env)
    assert events.returncode == 0, events.stderr
    for token_id in made:
        assert token_id in events.stdout.split(), events.stdout
    if columns == "80":  # it can fit, so it does: names and User-Agents wrap instead
        assert max(len(line.rstrip()) for line in events.stdout.splitlines()) <= 80

    shown = logged_in.run("tokens", "show", made[1], env=env)
    assert shown.returncode == 0, shown.stderr
    assert made[1] in shown.stdout.split()
    assert team.id in shown.stdout.split()
    assert json.loads(logged_in.run("tokens", "show", made[1], "--format", "json").stdout)
