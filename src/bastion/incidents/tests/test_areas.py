"""Control areas: set, change, lift, the effective level (strictest above), history, and the
scope of the page and the API (another grid's areas and nodes are out of reach)."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from bastion.accounts.services import token_issue
from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog
from bastion.geo.models import Resident
from bastion.incidents import queries, services
from bastion.incidents.models import ControlArea

API = "/api/v1/incidents"


def levels_of(residents) -> list:
    levels = queries.active_levels(i for r in residents for i in queries.ancestor_ids(_located(r)))
    return [queries.strictest_of(queries.ancestor_ids(_located(r)), levels) for r in residents]


def _located(row) -> tuple:
    return tuple(
        getattr(row, f"{lvl}_id")
        for lvl in ("city", "district", "street", "community", "grid", "building", "unit")
    )


def test_the_strictest_level_above_a_resident_decides(tree):
    admin = tree.users["admin"]
    services.control_set(
        actor=admin, node=tree.communities[0], level="precaution", reason="邻区有病例"
    )
    services.control_set(actor=admin, node=tree.grids[0], level="controlled", reason="密接")
    services.control_set(actor=admin, node=tree.units[0], level="sealed", reason="阳性病例")
    sealed = Resident.objects.filter(unit=tree.units[0]).first()
    controlled = Resident.objects.filter(unit=tree.units[2]).first()  # grid 0, building 1
    precaution = Resident.objects.filter(grid=tree.grids[1]).first()
    free = Resident.objects.filter(community=tree.communities[1]).first()
    assert levels_of([sealed, controlled, precaution, free]) == [
        "sealed",
        "controlled",
        "precaution",
        None,
    ]
    assert queries.effective_area(tree.units[1]).node == tree.grids[0]
    assert queries.effective_area(tree.units[0]).level == "sealed"
    assert queries.effective_area(tree.communities[1]) is None


def test_changing_a_level_lifts_the_old_one_and_both_are_recorded(tree):
    admin = tree.users["admin"]
    first = services.control_set(
        actor=admin, node=tree.buildings[0], level="controlled", reason="密接"
    )
    same = services.control_set(actor=admin, node=tree.buildings[0], level="controlled", reason="x")
    assert same.pk == first.pk
    second = services.control_set(
        actor=admin, node=tree.buildings[0], level="sealed", reason="阳性"
    )
    first.refresh_from_db()
    assert first.lifted_at == second.since and first.lifted_by == admin
    assert (
        ControlArea.objects.filter(node=tree.buildings[0], lifted_at__isnull=True).get() == second
    )
    lifted = services.control_lift(actor=admin, area=second)
    assert lifted.lifted_at is not None
    assert queries.effective_area(tree.buildings[0]) is None
    changes = ChangeLog.objects.filter(object_type="incidents.controlarea").order_by("id")
    assert [(c.object_id, c.action) for c in changes] == [
        (first.pk, "create"),
        (first.pk, "update"),
        (second.pk, "create"),
        (second.pk, "update"),
    ]
    assert changes[1].changes["lifted_at"][0] is None


@pytest.mark.parametrize(
    ("node", "level", "reason", "field"),
    [
        ("street", "sealed", "x", "node"),
        ("grid", "lockdown", "x", "level"),
        ("grid", "sealed", "  ", "reason"),
    ],
)
def test_bad_input_is_refused_naming_the_field(tree, node, level, reason, field):
    target = tree.street if node == "street" else tree.grids[0]
    with pytest.raises(DomainError) as e:
        services.control_set(actor=tree.users["admin"], node=target, level=level, reason=reason)
    assert [p.field for p in e.value.problems] == [field]
    assert not ControlArea.objects.exists()


def test_a_mistaken_change_is_reverted_and_the_replaced_level_is_back(tree):
    admin = tree.users["admin"]
    building = tree.buildings[0]
    controlled = services.control_set(actor=admin, node=building, level="controlled", reason="密接")
    mistake = services.control_set(actor=admin, node=building, level="sealed", reason="选错了")
    assert queries.last_changes([controlled, mistake]) == {mistake.pk}
    back = services.control_revert(actor=admin, area=mistake)
    assert back.pk == controlled.pk
    mistake.refresh_from_db()
    controlled.refresh_from_db()
    assert (mistake.lifted_at is not None, mistake.reverted) == (True, True)
    assert (controlled.lifted_at, controlled.lifted_by) == (None, None)
    assert queries.effective_area(building).pk == controlled.pk
    # Every step is in the history: the revert lifted the mistake, put the old level back.
    changes = list(ChangeLog.objects.filter(object_type="incidents.controlarea").order_by("id"))
    assert [(c.object_id, c.action) for c in changes][-2:] == [
        (mistake.pk, "update"),
        (controlled.pk, "update"),
    ]
    assert changes[-2].changes["reverted"] == [False, True]
    assert changes[-1].changes["lifted_at"][1] is None
    # The mistake is not the last change any more; the level back in force is.
    with pytest.raises(DomainError):
        services.control_revert(actor=admin, area=mistake)
    assert queries.last_changes([controlled, mistake]) == {controlled.pk}


def test_a_mistaken_lift_is_reverted_and_a_first_level_reverts_to_none(tree):
    admin = tree.users["admin"]
    area = services.control_set(actor=admin, node=tree.grids[0], level="sealed", reason="阳性")
    services.control_lift(actor=admin, area=area)
    assert services.control_revert(actor=admin, area=area).pk == area.pk
    area.refresh_from_db()
    assert area.active and not area.reverted
    assert services.control_revert(actor=admin, area=area) is None
    area.refresh_from_db()
    assert area.reverted and queries.effective_area(tree.grids[0]) is None


def test_a_lift_before_the_start_is_refused(tree):
    area = services.control_set(
        actor=tree.users["admin"], node=tree.grids[0], level="sealed", reason="阳性"
    )
    with pytest.raises(DomainError):
        services.control_lift(
            actor=tree.users["admin"], area=area, at=area.since - dt.timedelta(hours=1)
        )
    area.refresh_from_db()
    assert area.lifted_at is None


# ---------------------------------------------------------------------------- page and API


@pytest.fixture
def areas(tree):
    admin = tree.users["admin"]
    return {
        "community": services.control_set(
            actor=admin, node=tree.communities[0], level="precaution", reason="社区防范"
        ),
        "mine": services.control_set(
            actor=admin, node=tree.buildings[0], level="sealed", reason="本楼阳性"
        ),
        "other": services.control_set(
            actor=admin, node=tree.buildings[2], level="controlled", reason="他楼密接"
        ),
    }


def web(client: Client, user) -> Client:
    client.force_login(user)
    return client


def test_the_page_lists_my_areas_and_those_above_me_only(tree, areas, client):
    page = web(client, tree.users["grid"]).get("/incidents/", headers={"accept-language": "en"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "本楼阳性" in html and "社区防范" in html
    assert "他楼密接" not in html
    assert tree.buildings[2].name not in html  # nor in the form's list of nodes


def test_the_page_sets_and_lifts_within_my_grid_after_confirming(tree, areas, client, settings):
    settings.BASTION_LIFT_QUIET_DAYS = settings.BASTION_LIFT_NEGATIVE_ROUNDS = 0  # rule holds
    c = web(client, tree.users["grid"])
    body = {"node": tree.units[2].pk, "level": "controlled", "reason": "密接"}
    asked = c.post("/incidents/set/", body, headers={"accept-language": "en"})
    # First the page says what will happen; nothing is written yet.
    assert asked.status_code == 200
    assert "It reaches 4 households, 8 residents." in asked.content.decode()
    assert not ControlArea.objects.filter(node=tree.units[2]).exists()
    done = c.post("/incidents/set/", body | {"confirm": "yes"})
    assert done.status_code == 302
    assert queries.effective_area(tree.units[2]).level == "controlled"
    asked = c.post(f"/incidents/{areas['mine'].pk}/lift/", headers={"accept-language": "en"})
    assert "It reaches 8 households, 16 residents." in asked.content.decode()
    areas["mine"].refresh_from_db()
    assert areas["mine"].lifted_at is None
    assert c.post(f"/incidents/{areas['mine'].pk}/lift/", {"confirm": "yes"}).status_code == 302
    areas["mine"].refresh_from_db()
    assert areas["mine"].lifted_at is not None


def test_the_page_cannot_reach_another_grid(tree, areas, client):
    c = web(client, tree.users["grid"])
    other_unit = tree.units[4]
    assert (
        c.post(
            "/incidents/set/", {"node": other_unit.pk, "level": "sealed", "reason": "x"}
        ).status_code
        == 404
    )
    assert c.post(f"/incidents/{areas['other'].pk}/lift/").status_code == 404
    # the community's area binds my grid, but it is not mine to lift
    assert c.post(f"/incidents/{areas['community'].pk}/lift/").status_code == 404
    assert c.get(f"/incidents/?node={tree.grids[1].pk}").status_code == 404
    assert not ControlArea.objects.filter(node=other_unit).exists()
    assert ControlArea.objects.filter(lifted_at__isnull=True).count() == 3


def test_a_volunteer_sees_but_cannot_set(tree, areas, client):
    c = web(client, tree.users["volunteer"])
    page = c.get("/incidents/").content.decode()
    assert "本楼阳性" in page and 'name="reason"' not in page
    refused = c.post(
        "/incidents/set/", {"node": tree.grids[0].pk, "level": "sealed", "reason": "x"}
    )
    assert refused.status_code == 404
    assert not ControlArea.objects.filter(node=tree.grids[0]).exists()


def bearer(user) -> Client:
    return Client(headers={"authorization": f"Bearer {token_issue(user=user)}"})


def test_the_api_sets_lists_and_lifts_once_per_client_id(tree, areas, settings):
    settings.BASTION_LIFT_QUIET_DAYS = settings.BASTION_LIFT_NEGATIVE_ROUNDS = 0  # rule holds
    api = bearer(tree.users["grid"])
    body = {
        "node_id": tree.grids[0].pk,
        "level": "controlled",
        "reason": "密接较多",
        "client_id": str(uuid.uuid4()),
    }
    made = api.post(f"{API}/areas", body, content_type="application/json")
    assert made.status_code == 201, made.content
    again = api.post(f"{API}/areas", body, content_type="application/json")
    assert again.json()["id"] == made.json()["id"]
    listed = api.get(f"{API}/areas?active=true").json()
    assert {a["reason"] for a in listed} == {"密接较多", "本楼阳性", "社区防范"}
    level = api.get(f"{API}/levels/{tree.units[0].pk}").json()
    assert level["level"] == "sealed" and level["area"]["node_id"] == tree.buildings[0].pk
    lifted = api.post(f"{API}/areas/{made.json()['id']}/lift", {}, content_type="application/json")
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    bad = api.post(
        f"{API}/areas",
        {"node_id": tree.grids[0].pk, "level": "sealed", "reason": ""},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"


def test_the_api_cannot_reach_another_grid(tree, areas):
    api = bearer(tree.users["grid"])
    made = api.post(
        f"{API}/areas",
        {"node_id": tree.units[4].pk, "level": "sealed", "reason": "x"},
        content_type="application/json",
    )
    assert made.status_code == 404
    lift = api.post(f"{API}/areas/{areas['other'].pk}/lift", {}, content_type="application/json")
    assert lift.status_code == 404
    assert api.get(f"{API}/levels/{tree.units[4].pk}").status_code == 404
    assert api.get(f"{API}/areas?node_id={tree.grids[1].pk}").status_code == 404
    assert "他楼密接" not in api.get(f"{API}/areas").content.decode()
    areas["other"].refresh_from_db()
    assert areas["other"].lifted_at is None
    assert timezone.now() >= areas["other"].since


def test_lifting_an_area_failing_the_rule_is_refused_on_the_page_and_the_api(
    tree, areas, client, settings
):
    """The confirmation shows the rule's figures and offers no button while it fails; a
    lift posted anyway is refused naming the rule, and nothing is written."""
    settings.BASTION_LIFT_QUIET_DAYS = 14
    settings.BASTION_LIFT_NEGATIVE_ROUNDS = 2
    c = Client()
    c.force_login(tree.users["grid"])
    url = f"/incidents/{areas['mine'].pk}/lift/"
    page = c.post(url, headers={"accept-language": "en"}).content.decode()
    assert "Without a new positive: 0 of 14 days." in page
    assert "Negative rounds since: 0 of 2." in page
    assert "Confirm and lift" not in page
    logged = ChangeLog.objects.count()
    c.post(url, {"confirm": "yes"})
    areas["mine"].refresh_from_db()
    assert areas["mine"].lifted_at is None and ChangeLog.objects.count() == logged
    token = token_issue(user=tree.users["grid"])
    api = Client(headers={"authorization": f"Bearer {token}"})
    refused = api.post(f"{API}/areas/{areas['mine'].pk}/lift", {}, content_type="application/json")
    assert refused.status_code == 422
    assert "14" in refused.content.decode()
    areas["mine"].refresh_from_db()
    assert areas["mine"].lifted_at is None
