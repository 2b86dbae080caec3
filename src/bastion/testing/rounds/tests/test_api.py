"""The testing API: rounds, stations, tubes, single and batch scans (idempotent), results,
traceback, coverage, sites, codes; and the scope on every write and read."""

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.accounts.services import token_issue
from bastion.people import services as people
from bastion.testing.conftest import person
from bastion.testing.rounds.models import Round
from bastion.testing.scans.codes import resident_code
from bastion.testing.scans.models import Scan, Tube

API = "/api/v1/testing"


def bearer(user) -> Client:
    return Client(
        headers={"authorization": f"Bearer {token_issue(user=user)}", "accept-language": "en"}
    )


@pytest.fixture
def street(testing) -> Client:
    return bearer(testing.tree.users["street"])


def post(client: Client, path: str, body: dict):
    return client.post(f"{API}{path}", body, content_type="application/json")


def scan_body(tube: str, code: str, **extra) -> dict:
    return {
        "client_id": str(extra.pop("client_id", uuid.uuid4())),
        "tube": tube,
        "code": code,
        **extra,
    }


def round_body(testing, name: str, **extra) -> dict:
    """A round over the second community, six hours from now."""
    now = timezone.now()
    return {
        "node_id": testing.tree.communities[1].pk,
        "name": name,
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(hours=6)).isoformat(),
        **extra,
    }


def test_a_round_is_created_listed_and_read(testing, street):
    body = round_body(testing, "社区二轮", pool_size=20, client_id=str(uuid.uuid4()))
    created = post(street, "/rounds", body)
    assert created.status_code == 201
    again = post(street, "/rounds", body)
    assert again.json()["id"] == created.json()["id"]
    assert Round.objects.count() == 2
    out = street.get(f"{API}/rounds/{created.json()['id']}").json()
    assert (out["pool_size"], out["state"], out["node"]["level"]) == (20, "running", "community")
    assert {r["name"] for r in street.get(f"{API}/rounds").json()} == {"第一轮", "社区二轮"}

    bad = post(street, "/rounds", body | {"pool_size": 7, "client_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pool_size"
    grid_chief = bearer(testing.tree.users["grid"])
    refused = post(grid_chief, "/rounds", body | {"client_id": str(uuid.uuid4())})
    assert refused.status_code == 404  # the other community is outside their scope


def test_a_round_sets_how_long_each_custody_step_may_take(testing, street):
    body = round_body(testing, "远程化验轮", receive_within=6)  # a far lab
    created = post(street, "/rounds", body)
    assert created.status_code == 201
    out = created.json()
    assert (out["pack_within"], out["seal_within"], out["receive_within"]) == (1, 2, 6)
    late = street.get(f"{API}/custody/rounds/{out['id']}/overdue").json()
    assert late["hours"] == {"pack": 1, "seal": 2, "receive": 6}
    page = Client(headers={"accept-language": "en"})
    page.force_login(testing.tree.users["street"])
    shown = page.get(reverse("testing:round", args=[out["id"]])).content.decode()
    assert "a bag sealed within 2 h, received by the lab within 6 h of sealing" in shown

    bad = post(street, "/rounds", body | {"seal_within": 0, "receive_within": 49})
    assert bad.status_code == 422
    assert {(e["field"], e["message"]) for e in bad.json()["errors"]} == {
        ("seal_within", "Between 1 and 48 hours."),
        ("receive_within", "Between 1 and 48 hours."),
    }
    assert Round.objects.count() == 2
    # and the database holds the limits itself
    with pytest.raises(IntegrityError), transaction.atomic():
        Round.objects.filter(pk=out["id"]).update(pack_within=0)


def test_single_scans_accept_replay_and_refuse(testing, street):
    station = testing.stations[0].pk
    people_ = testing.residents_of(testing.tree.grids[0])
    body = scan_body("T-0001", people_[0].id_number)

    first = post(street, f"/stations/{station}/scans", body)
    assert first.status_code == 201
    out = first.json()
    assert (out["status"], out["tube"], out["filled"], out["capacity"], out["name"]) == (
        "accepted",
        "T-0001",
        1,
        5,
        people_[0].name,
    )
    assert "*" in out["id_number"]

    replay = post(street, f"/stations/{station}/scans", body)
    assert replay.status_code == 200 and replay.json()["status"] == "replayed"
    assert replay.json()["scan_id"] == out["scan_id"]

    twice = post(street, f"/stations/{station}/scans", scan_body("T-0002", people_[0].id_number))
    assert twice.status_code == 422
    (error,) = twice.json()["errors"]
    assert (error["field"], error["message"]) == ("code", twice.json()["scan"]["message"])
    assert (twice.json()["scan"]["reason"], twice.json()["scan"]["tube"]) == (
        "already_sampled",
        "T-0001",
    )
    assert Scan.objects.count() == 1

    coded = post(
        street, f"/stations/{station}/scans", scan_body("T-0001", resident_code(people_[1].pk))
    )
    assert coded.status_code == 201 and coded.json()["resident_id"] == people_[1].pk


def test_a_batch_of_scans_and_its_retry(testing, street):
    station = testing.stations[0].pk
    people_ = testing.residents_of(testing.tree.grids[0])
    scans = [scan_body(f"T-{i // 5:04d}", r.id_number) for i, r in enumerate(people_[:12])]
    scans.append(scan_body("T-0009", "not-an-id"))
    response = post(street, f"/stations/{station}/scans/batch", {"scans": scans})
    assert response.status_code == 200
    out = response.json()
    assert (out["accepted"], out["replayed"], out["refused"]) == (12, 0, 1)
    assert out["results"][-1]["reason"] == "bad_id_number"
    assert [r["client_id"] for r in out["results"]] == [s["client_id"] for s in scans]

    retry = post(street, f"/stations/{station}/scans/batch", {"scans": scans}).json()
    assert (retry["accepted"], retry["replayed"], retry["refused"]) == (0, 12, 1)
    assert Scan.objects.count() == 12

    too_many = post(
        street, f"/stations/{station}/scans/batch", {"scans": [scan_body("T-0001", "x")] * 201}
    )
    assert too_many.status_code == 422


def test_station_open_close_and_tubes(testing, street):
    station = testing.stations[0].pk
    closed = post(street, f"/stations/{station}/close", {})
    assert closed.status_code == 200 and closed.json()["closed_at"]
    refused = post(street, f"/stations/{station}/tubes", {"barcode": "T-0001"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "station"
    opened = post(street, f"/stations/{station}/open", {"round_id": testing.round.pk})
    assert opened.status_code == 200 and opened.json()["closed_at"] is None

    tube = post(street, f"/stations/{station}/tubes", {"barcode": "t-0001", "single": True})
    assert tube.status_code == 200
    assert (tube.json()["barcode"], tube.json()["capacity"], tube.json()["kind"]) == (
        "T-0001",
        1,
        "single",
    )
    state = street.get(f"{API}/stations/{station}").json()
    assert state["round"]["id"] == testing.round.pk
    assert state["tubes"] == [{"barcode": "T-0001", "filled": 0, "capacity": 1, "kind": "single"}]
    for malformed in ("T", "T_0001"):  # not a barcode: no such tube, not a refusal
        assert street.get(f"{API}/tubes/by-barcode/{malformed}").status_code == 404
        assert post(street, f"/stations/{station}/tubes/{malformed}/close", {}).status_code == 404
    assert street.get(f"{API}/tubes/by-barcode/t-0001").json()["barcode"] == "T-0001"
    shut = post(street, f"/stations/{station}/tubes/t-0001/close", {})
    assert shut.json()["status"] == "closed"


def test_results_traceback_and_retests_over_the_api(testing, street):
    tree, admin = testing.tree, testing.admin
    people.post_assign(
        person=person(tree.units[0], "网格长甲", "13800000101"),
        role="grid_chief",
        node=tree.grids[0],
        actor=admin,
    )
    station = testing.stations[0].pk
    people_ = testing.residents_of(tree.buildings[0])[:5]
    post(
        street,
        f"/stations/{station}/scans/batch",
        {"scans": [scan_body("P-0001", r.id_number) for r in people_]},
    )

    bad = post(
        street,
        f"/rounds/{testing.round.pk}/results",
        {
            "results": [
                {"tube": "P-0001", "result": "positive"},
                {"tube": "NOPE-1", "result": "negative"},
            ]
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["row"] == 2 and bad.json()["errors"][0]["field"] == "tube"
    assert not Tube.objects.exclude(result="").exists()

    done = post(
        street,
        f"/rounds/{testing.round.pk}/results",
        {"results": [{"tube": "P-0001", "result": "阳性"}]},
    )
    assert done.status_code == 201
    tube_id = done.json()["positive_tube_ids"][0]
    tb = street.get(f"{API}/tubes/{tube_id}/traceback").json()
    assert tb["people"] == 5 and tb["site"] == "采样点1"
    (building,) = tb["buildings"]
    assert building["building"]["id"] == tree.buildings[0].pk
    assert building["grid"]["id"] == tree.grids[0].pk
    assert {
        "role": "grid_chief",
        "node_name": "网格1-1",
        "name": "网格长甲",
        "phone": "13800000101",
    } in building["chiefs"]
    assert [p["name"] for p in building["people"]] == [r.name for r in people_]
    assert {p["retest"] for p in building["people"]} == {"due"}
    assert all("*" in p["id_number"] for p in building["people"])

    retests = street.get(f"{API}/rounds/{testing.round.pk}/retests").json()
    assert [r["resident_id"] for r in retests] == [r.pk for r in people_]
    cov = street.get(f"{API}/rounds/{testing.round.pk}/coverage").json()
    assert (cov["totals"]["sampled"], cov["totals"]["positive"]) == (5, 5)
    assert [c["node"]["id"] for c in cov["children"]] == [c.pk for c in tree.communities]


def test_a_result_file_upload(testing, street):
    station = testing.stations[0].pk
    r = testing.residents_of(testing.tree.grids[0])[0]
    post(street, f"/stations/{station}/scans", scan_body("F-0001", r.id_number))
    upload = SimpleUploadedFile("lab.csv", "管号,结果\nF-0001,阴性\n".encode(), "text/csv")
    response = street.post(f"{API}/rounds/{testing.round.pk}/results/file", {"file": upload})
    assert response.status_code == 201 and response.json()["tubes"] == 1
    bad = SimpleUploadedFile("lab.csv", "管号,结果\nF-0001,阳性\n".encode(), "text/csv")
    refused = street.post(f"{API}/rounds/{testing.round.pk}/results/file", {"file": bad})
    assert refused.status_code == 422 and refused.json()["errors"][0]["row"] == 2


def test_missing_home_visits_and_throughput(testing, street):
    grid = testing.tree.grids[0].pk
    missing = street.get(f"{API}/rounds/{testing.round.pk}/missing?node_id={grid}&limit=5")
    assert missing.json()["total"] == 32 and missing.json()["listed"] == 5
    first = missing.json()["residents"][0]
    assert first["place"]["building"] == testing.tree.buildings[0].name
    home = street.get(f"{API}/rounds/{testing.round.pk}/home-visits?node_id={grid}")
    assert home.status_code == 200 and home.json() == []
    chart = street.get(f"{API}/rounds/{testing.round.pk}/throughput?hours=2").json()
    assert chart["bucket_minutes"] == 10 and chart["buckets"]


def test_sites_stations_posts_and_codes(testing, street):
    tree = testing.tree
    sites = street.get(f"{API}/sites").json()
    assert [(s["name"], s["stations"], s["vacancies"]["leader"]) for s in sites] == [
        ("采样点1", 2, False),
        ("采样点2", 2, False),
    ]
    body = {
        "node_id": tree.communities[1].pk,
        "name": "三号点",
        "address": "文化广场",
        "opens_at": "07:00",
        "closes_at": "19:00",
        "building_ids": [b.pk for b in tree.buildings[4:6]],
        "stations": ["1号台"],
    }
    created = post(street, "/sites", body)
    assert created.status_code == 201
    site = created.json()
    assert site["vacancies"] == {
        "leader": True,
        "heads_needed": 2,
        "heads": 0,
        "stations_without_head": [site["stations"][0]["id"]],
    }
    assert site["building_ids"] == [b.pk for b in tree.buildings[4:6]]
    station = post(street, f"/sites/{site['id']}/stations", {"name": "2号台"})
    assert station.status_code == 201
    leader = person(tree.units[8], "点长新", "13600000001")
    posted = post(
        street, f"/sites/{site['id']}/posts", {"person_id": leader.pk, "role": "site_leader"}
    )
    assert posted.status_code == 201
    twice = post(
        street, f"/sites/{site['id']}/posts", {"person_id": leader.pk, "role": "site_leader"}
    )
    assert twice.status_code == 422
    detail = street.get(f"{API}/sites/{site['id']}").json()
    assert detail["vacancies"]["leader"] is False and len(detail["stations"]) == 2

    household = testing.residents_of(tree.units[0])[0].household_id
    codes = street.get(f"{API}/households/{household}/codes").json()
    assert [c["code"] for c in codes] == [resident_code(c["resident_id"]) for c in codes]
    assert len(codes) == 2


def test_scope_on_scans_and_reads(testing):
    tree = testing.tree
    r = testing.residents_of(tree.grids[0])[0]
    chief = bearer(tree.users["grid"])  # grid chief of grid 1: site 1 stands in their grid
    assert (
        post(
            chief, f"/stations/{testing.stations[0].pk}/scans", scan_body("G-0001", r.id_number)
        ).status_code
        == 201
    )
    other_station = post(
        chief, f"/stations/{testing.stations[2].pk}/scans", scan_body("G-0002", r.id_number)
    )
    assert other_station.status_code == 404
    volunteer = post(
        bearer(tree.users["volunteer"]),
        f"/stations/{testing.stations[0].pk}/scans",
        scan_body("G-0003", testing.residents_of(tree.grids[0])[1].id_number),
    )
    assert volunteer.status_code == 403

    tube = Tube.objects.get(barcode="G-0001")
    other = bearer(tree.users["other_grid"])
    assert other.get(f"{API}/tubes/{tube.pk}/traceback").status_code == 404
    assert other.get(f"{API}/tubes/{tube.pk}").status_code == 404
    assert other.get(f"{API}/sites/{testing.sites[0].pk}").status_code == 404
    assert other.get(f"{API}/stations/{testing.stations[0].pk}").status_code == 404
    assert (
        other.get(
            f"{API}/rounds/{testing.round.pk}/coverage?node_id={tree.grids[0].pk}"
        ).status_code
        == 404
    )
    assert (
        other.get(f"{API}/rounds/{testing.round.pk}/missing?node_id={tree.grids[0].pk}").status_code
        == 404
    )
    assert (
        post(
            other,
            f"/rounds/{testing.round.pk}/results",
            {"results": [{"tube": "G-0001", "result": "positive"}]},
        ).status_code
        == 404
    )
    # Their own grid's coverage of the street's round they do see.
    own = other.get(f"{API}/rounds/{testing.round.pk}/coverage").json()
    assert own["node"]["id"] == tree.grids[1].pk
    nobody = bearer(tree.users["nobody"])
    assert nobody.get(f"{API}/rounds").json() == []
    assert nobody.get(f"{API}/rounds/{testing.round.pk}").status_code == 404
