"""The public report-in tells nobody whether an ID number is registered (issue 15, item 5):
its rate limit applies before the number is looked up and counts every use, and a
registered and an unregistered number get the same answer."""

import json

from django.test import Client, override_settings

from bastion.people.mobilization import queries
from bastion.people.mobilization.models import ReportIn

REGISTERED = "220421198001010018"
UNREGISTERED = ("220421198001020013", "220421198001030019", "220421198001040014")


def submit(tree, number: str, *, name: str = "某人", address: str = "10.0.0.1"):
    body = {
        "community_token": queries.report_in_token(tree.communities[0]),
        "name": name,
        "phone": "13912345678",
        "id_number": number,
    }
    return Client(headers={"accept-language": "en"}).post(
        "/api/v1/mobilization/report-in",
        json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def answer(response) -> tuple[int, dict]:
    body = response.json()
    body.pop("submitted_at", None)  # the time of this submission
    return response.status_code, body


def test_a_registered_and_an_unregistered_number_get_the_same_answer(tree):
    assert submit(tree, REGISTERED, name="党员甲", address="10.0.0.9").status_code == 201
    before = list(ReportIn.objects.values())

    registered = answer(submit(tree, REGISTERED))
    unregistered = answer(submit(tree, UNREGISTERED[0]))

    assert registered == unregistered == (201, {"status": "received", "community": "社区1"})
    # The real registration is untouched; the new number was registered.
    assert list(ReportIn.objects.filter(id_number=REGISTERED).values()) == before
    assert ReportIn.objects.filter(id_number=UNREGISTERED[0]).exists()


@override_settings(BASTION_REPORT_IN_PER_HOUR=2)
def test_the_rate_limit_applies_first_and_counts_every_use(tree):
    submit(tree, REGISTERED, name="党员甲", address="10.0.0.9")
    # Two uses from one address, whatever the numbers: the third is refused, registered or not.
    for address, first in (("10.0.0.1", REGISTERED), ("10.0.0.2", UNREGISTERED[0])):
        assert submit(tree, first, address=address).status_code == 201
        assert submit(tree, UNREGISTERED[1], address=address).status_code == 201
        assert answer(submit(tree, REGISTERED, address=address)) == answer(
            submit(tree, UNREGISTERED[2], address=address)
        )
        assert submit(tree, REGISTERED, address=address).status_code == 429


@override_settings(BASTION_REPORT_IN_PER_HOUR=2)
def test_refused_uses_count_too_so_the_limit_comes_before_any_answer(tree):
    """Uses refused as invalid still count: the limit is the first thing a submission meets."""
    for _ in range(2):
        assert submit(tree, "12345", address="10.0.0.5").status_code == 422
    assert submit(tree, UNREGISTERED[0], address="10.0.0.5").status_code == 429
    assert submit(tree, "12345", address="10.0.0.5").status_code == 429


def test_the_schema_documents_no_409_for_the_public_report_in(client):
    schema = client.get("/api/v1/openapi.json").json()
    answers = schema["paths"]["/api/v1/mobilization/report-in"]["post"]["responses"]
    assert "409" not in answers
    assert {"201", "422", "429"} <= set(answers)
