"""A scan stored just before a database outage: the device saw a 503 and retries with the
same client id; the scan is answered as stored and never written twice."""

from django.db import OperationalError

from bastion.testing.rounds.tests.test_api import bearer, post, scan_body
from bastion.testing.scans import api as scans_api
from bastion.testing.scans.models import Scan


def test_a_scan_stored_before_the_outage_is_replayed_on_retry(testing, monkeypatch):
    """The outage struck after the scan's transaction committed: the device saw a 503 and
    sends the scan again with its client id; it is answered as stored, not written twice."""
    people = testing.residents_of(testing.tree.grids[0])
    client = bearer(testing.tree.users["street"])
    client.raise_request_exception = False
    body = scan_body("T-0001", people[0].id_number)
    answer_out = scans_api._scan_out

    def fails_once(outcome):
        monkeypatch.setattr(scans_api, "_scan_out", answer_out)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(scans_api, "_scan_out", fails_once)
    path = f"/stations/{testing.stations[0].pk}/scans"

    first = post(client, path, body)
    again = post(client, path, body)

    assert first.status_code == 503 and first.json()["retry"] is True
    assert again.status_code == 200, again.content
    assert again.json()["status"] == "replayed"
    assert Scan.objects.filter(resident=people[0]).count() == 1
