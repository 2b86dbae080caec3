"""What a station learns of a person outside its login's view (issue 15, item 3).

The round is the street's; station 0 is worked by the first community's staff, who get 404
for a resident of the second community. Scanning that resident's ID number there samples
them (the round covers them) and the reply shows a masked name and number and no resident id,
on the first answer, on its replay, in every refusal (a wrong tube kind names no control
level), and the tube's traceback shows them the same way."""

import json
import uuid

import pytest
from django.test import Client

from bastion.accounts.services import token_issue
from bastion.incidents import services as incidents
from bastion.testing.scans.models import Tube


def api(user) -> Client:
    return Client(
        headers={"authorization": f"Bearer {token_issue(user=user)}", "accept-language": "en"}
    )


def post(client, station, tube, resident, client_id=None):
    body = {"client_id": str(client_id or uuid.uuid4()), "tube": tube, "code": resident.id_number}
    return client.post(
        f"/api/v1/testing/stations/{station.pk}/scans", body, content_type="application/json"
    )


@pytest.fixture
def outsider(testing):
    """A resident of the second community (outside the community login's view) and the
    masked name a station is told."""
    resident = testing.residents_of(testing.tree.communities[1])[0]
    return resident, resident.name[0] + "*" * (len(resident.name) - 1)


def test_a_scan_of_a_person_outside_the_view_shows_a_masked_name_and_no_id(testing, outsider):
    resident, masked = outsider
    station_login = api(testing.tree.users["community"])
    assert station_login.get(f"/api/v1/geo/residents/{resident.pk}").status_code == 404
    key = uuid.uuid4()

    first = post(station_login, testing.stations[0], "T-0001", resident, key)
    replay = post(station_login, testing.stations[0], "T-0001", resident, key)
    again = post(station_login, testing.stations[0], "T-0002", resident)

    assert first.status_code == 201, first.content
    for body in (first.json(), replay.json(), again.json()["scan"]):
        assert (body["name"], body["resident_id"]) == (masked, None), body
        assert body["id_number"] == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]
        assert resident.name not in json_text(body)
    assert first.json()["status"] == "accepted" and replay.json()["status"] == "replayed"
    assert again.json()["scan"]["reason"] == "already_sampled"
    # Someone in the login's view is shown as before.
    inside = testing.residents_of(testing.tree.grids[0])[0]
    mine = post(station_login, testing.stations[0], "T-0001", inside).json()
    assert (mine["name"], mine["resident_id"]) == (inside.name, inside.pk)


def test_a_wrong_tube_refusal_names_no_one_outside_the_view_nor_their_level(testing, outsider):
    resident, masked = outsider
    incidents.control_set(
        actor=testing.admin, node=testing.tree.communities[1], level="sealed", reason="阳性"
    )
    station_login = api(testing.tree.users["community"])
    inside = testing.residents_of(testing.tree.grids[0])[0]
    assert post(station_login, testing.stations[0], "T-0001", inside).status_code == 201

    refused = post(station_login, testing.stations[0], "T-0001", resident)

    body = refused.json()
    assert refused.status_code == 422 and body["scan"]["reason"] == "wrong_tube_kind"
    message = body["errors"][0]["message"]
    assert message.startswith(masked) and "a single tube" in message
    assert resident.name not in json_text(body) and "sealed" not in message
    # The street's login sees them: named with their level, as before.
    street = post(api(testing.tree.users["street"]), testing.stations[0], "T-0001", resident)
    assert "lives in a sealed area" in street.json()["errors"][0]["message"]


def test_the_traceback_shows_the_person_as_the_scan_did(testing, outsider):
    resident, masked = outsider
    station_login = api(testing.tree.users["community"])
    scanned = post(station_login, testing.stations[0], "T-0001", resident).json()
    tube = Tube.objects.get(barcode="T-0001")

    traced = station_login.get(f"/api/v1/testing/tubes/{tube.pk}/traceback").json()

    assert traced["hidden"] == 1 and traced["buildings"] == []
    assert traced["outside"] == [{"name": scanned["name"], "id_number": scanned["id_number"]}]
    assert traced["outside"][0]["name"] == masked and resident.name not in json_text(traced)
    page = Client()
    page.force_login(testing.tree.users["community"])
    html = page.get(f"/testing/tubes/{tube.pk}/").content.decode()
    assert masked in html and resident.name not in html


def json_text(body) -> str:
    return json.dumps(body, ensure_ascii=False)
