"""Compound gates: residents and visitors in and out; a sealed unit's resident is turned
back at the gate with the reason (and a controlled area's resident may not leave); a visitor
without a reason is refused naming the field; replays."""

import uuid

from bastion.checkpoints import services
from bastion.checkpoints.models import Passage
from bastion.checkpoints.services import PassageInput
from bastion.checkpoints.tests.conftest import NOW
from bastion.geo.models import Household, Resident
from bastion.incidents.services import control_set


def _pass(tree, gate, *items):
    return services.passages_record(actor=tree.users["community"], gate=gate, items=items, at=NOW)


def _resident(unit):
    return Resident.objects.filter(unit=unit).order_by("pk").first()


def item(**kw):
    return PassageInput(**({"client_id": uuid.uuid4(), "direction": "in"} | kw))


def test_sealed_units_resident_is_turned_back_with_the_reason(tree, gate):
    sealed, free = tree.units[0], tree.units[1]
    control_set(actor=tree.users["admin"], node=sealed, level="sealed", reason="阳性病例")
    a, b = _resident(sealed), _resident(free)
    outcomes = _pass(
        tree, gate, item(resident_id=a.pk, direction="out"), item(resident_id=b.pk, direction="out")
    )
    assert [o.status for o in outcomes] == ["accepted", "accepted"]
    assert outcomes[0].message == (
        "The resident's unit is sealed: stay at home, supplies are delivered."
    )
    assert outcomes[1].message == ""
    stored = {p.resident_id: (p.refused, p.rule, p.why) for p in Passage.objects.all()}
    assert stored[a.pk] == (True, "sealed", outcomes[0].message)
    assert stored[b.pk] == (False, "", "")


def test_controlled_area_may_come_in_but_not_go_out(tree, gate):
    control_set(actor=tree.users["admin"], node=tree.grids[0], level="controlled", reason="密接")
    r = _resident(tree.units[0])
    back, out = _pass(
        tree, gate, item(resident_id=r.pk, direction="in"), item(resident_id=r.pk, direction="out")
    )
    assert (back.message, out.message) == (
        "",
        "The resident's area is controlled: stay inside the compound.",
    )


def test_visitor(tree, gate):
    host = Household.objects.filter(community=tree.communities[0]).order_by("pk").first()
    elsewhere = Household.objects.filter(community=tree.communities[1]).first()
    ok, no_reason, far_host, fever = _pass(
        tree,
        gate,
        item(visitor_name="张师傅", phone="13800001111", purpose="维修水管", host_id=host.pk),
        item(visitor_name="赵女士"),
        item(visitor_name="钱先生", purpose="探亲", host_id=elsewhere.pk),
        item(visitor_name="孙先生", purpose="送药", temperature="37.8"),
    )
    assert ok.status == "accepted" and ok.message == ""
    assert [p.field for p in no_reason.problems] == ["purpose"]
    assert [p.field for p in far_host.problems] == ["host_id"]
    assert fever.status == "accepted" and "fever" in fever.message
    assert Passage.objects.filter(refused=True).count() == 1
    assert Passage.objects.count() == 2


def test_other_compounds_resident_and_bad_temperature(tree, gate):
    other = _resident(tree.units[-1])  # the second community's
    a, b = _pass(
        tree, gate, item(resident_id=other.pk), item(visitor_name="周", purpose="x", temperature=50)
    )
    assert [p.field for p in a.problems] == ["resident_id"]
    assert [p.field for p in b.problems] == ["temperature"]
    assert not Passage.objects.exists()


def test_replay_and_crew_refusal(tree, gate):
    r = _resident(tree.units[1])
    first = item(resident_id=r.pk, refused=True, reason="未戴口罩")
    [a] = _pass(tree, gate, first)
    [b] = _pass(tree, gate, first)
    assert (b.status, b.id) == ("replayed", a.id)
    assert Passage.objects.get().reason == "未戴口罩"
    [c] = _pass(tree, gate, item(resident_id=r.pk, refused=True))
    assert [p.field for p in c.problems] == ["reason"]
