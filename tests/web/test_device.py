"""``/device``: approving or denying a device's sign-in (RFC 8628). The device's side
is started in-process here; the API's endpoints have tests of their own."""

import pytest

from tests.web.conftest import Person
from tests.web.visitor import Visitor
from tokend.bootstrap import Services
from tokend.domain.errors import DeviceFlowError


def test_the_code_form(signed_in: Visitor) -> None:
    page = signed_in.get("/device")
    assert page.status == 200
    assert page.doc.labelled("Code").attrs["name"] == "user_code"
    assert page.doc.button("Continue")


def test_approving_gives_the_device_a_token_of_the_person(
    signed_in: Visitor, services: Services, person: Person
) -> None:
    grant = services.devices.start("tokend-cli", name="laptop", scope="tokens")
    page = signed_in.get("/device")
    typed = f"{grant.user_code[:4].lower()}-{grant.user_code[4:].lower()}"  # as people type
    asked = signed_in.page(signed_in.submit(page, "Continue", {"Code": typed}))
    assert asked.status == 200
    shown = asked.doc.one(data_testid="device-user-code").text
    assert shown == f"{grant.user_code[:4]}-{grant.user_code[4:]}"
    facts = asked.doc.one("dl").text
    assert "tokend-cli" in facts
    assert "laptop" in facts
    assert "tokens" in facts
    assert [b for b in asked.doc.buttons() if b != "Sign out"] == ["Approve", "Deny"]
    with pytest.raises(DeviceFlowError) as pending:
        services.devices.poll(grant.device_code, "tokend-cli")
    assert pending.value.code == "authorization_pending"

    done = signed_in.page(signed_in.submit(asked, "Approve"))
    assert done.status == 200
    assert done.doc.one("h1").text == "Device approved"
    issued = services.devices.poll(grant.device_code, "tokend-cli")
    assert issued.token.user_id == person.account.user_id
    assert issued.token.name == "laptop"
    names = [
        row.one("th").text
        for row in signed_in.get("/tokens").doc.all("tr", data_testid="token-row")
    ]
    assert "laptop" in names


def test_the_link_with_the_code_works_too(signed_in: Visitor, services: Services) -> None:
    grant = services.devices.start("tokend-cli")
    asked = signed_in.get(f"/device?user_code={grant.user_code}")
    assert asked.status == 200
    assert asked.doc.button("Approve")


def test_denying(signed_in: Visitor, services: Services) -> None:
    grant = services.devices.start("tokend-cli")
    asked = signed_in.get(f"/device?user_code={grant.user_code}")
    done = signed_in.page(signed_in.submit(asked, "Deny"))
    assert done.doc.one("h1").text == "Device denied"
    with pytest.raises(DeviceFlowError) as denied:
        services.devices.poll(grant.device_code, "tokend-cli")
    assert denied.value.code == "access_denied"
    again = signed_in.page(signed_in.submit(asked, "Approve"))  # the code is spent
    assert again.status == 400


@pytest.mark.parametrize("code", ["BCDF-GHJK", "not a code", "AAAA-AAAA"])
def test_a_wrong_code_says_so(signed_in: Visitor, code: str) -> None:
    page = signed_in.page(signed_in.submit(signed_in.get("/device"), "Continue", {"Code": code}))
    assert page.status == 400
    assert page.title.startswith("Error: ")
    error = page.doc.one(id="field-user_code-error")
    assert "That code is not valid" in error.text
    assert error.text in page.doc.labelled("Code").described_by()
    assert page.doc.labelled("Code").attrs["value"] == code


def test_signing_in_first_comes_back_to_the_code(
    visitor: Visitor, services: Services, person: Person
) -> None:
    grant = services.devices.start("tokend-cli")
    asked = visitor.http.get(f"/device?user_code={grant.user_code}")
    assert asked.status_code == 303
    login = visitor.follow(asked)
    answer = visitor.submit(
        login, "Sign in", {"Username or email": person.username, "Password": person.password}
    )
    assert answer.headers["location"] == f"/device?user_code={grant.user_code}"
    assert visitor.follow(answer).doc.button("Approve")
