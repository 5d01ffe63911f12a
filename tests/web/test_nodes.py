"""Two `tokend serve` nodes on one database, as behind a load balancer: a browser's
session is known to both, and ended on both."""

from pathlib import Path

from tests.support import Server
from tests.web.conftest import Person
from tests.web.visitor import Visitor


def test_a_session_started_on_one_node_is_used_and_ended_on_another(
    server: Server, database_url: str, person: Person, tmp_path: Path
) -> None:
    with (
        Server(database_url=database_url, log_path=tmp_path / "b.log") as other,
        Visitor(server) as on_a,
        Visitor(other) as on_b,
    ):
        assert on_a.sign_in(person.username, person.password).status_code == 303
        on_b.http.cookies = on_a.http.cookies  # one browser; the balancer picks the node

        page = on_b.get("/account")
        assert page.status == 200
        assert person.username in page.html

        assert on_b.submit(page, "Sign out").status_code == 303
        # The session is gone from the database: node A, which still gets the cookie,
        # no longer knows it.
        after = on_a.get("/tokens")
        assert after.status == 303
        assert after.response.headers["location"].startswith("/login")
