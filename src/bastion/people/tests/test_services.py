import pytest

from bastion.core.errors import DomainError
from bastion.core.history import history_of
from bastion.core.models import ChangeLog
from bastion.geo import services as geo
from bastion.people import services
from bastion.people.conftest import person_at
from bastion.people.models import Post


def test_assigning_a_held_post_names_the_holder_and_writes_nothing(tree, staffed):
    newcomer = person_at(tree.units[0], "新人", "13900000050")
    posts, changes = Post.objects.count(), ChangeLog.objects.count()
    with pytest.raises(DomainError) as refused:
        services.post_assign(
            person=newcomer,
            role="building_chief",
            node=tree.buildings[0],
            actor=tree.users["street"],
        )
    [problem] = refused.value.problems
    assert problem.field == "role"
    assert "楼长丙" in problem.message
    assert (Post.objects.count(), ChangeLog.objects.count()) == (posts, changes)


def test_a_held_zone_command_names_that_zones_commander(tree, staffed):
    one = geo.zone_create(
        street=tree.street, name="一区", kind="joint", buildings=tree.buildings[:2]
    )
    two = geo.zone_create(
        street=tree.street, name="二区", kind="joint", buildings=tree.buildings[2:4]
    )
    services.post_assign(
        person=person_at(tree.units[0], "一区指挥长", "13900000061"),
        role="zone_commander",
        node=tree.street,
        zone=one,
    )
    services.post_assign(
        person=person_at(tree.units[4], "二区指挥长", "13900000062"),
        role="zone_commander",
        node=tree.street,
        zone=two,
    )
    with pytest.raises(DomainError, match="二区指挥长"):
        services.post_assign(
            person=person_at(tree.units[5], "后来者", "13900000063"),
            role="zone_commander",
            node=tree.street,
            zone=two,
        )


def test_end_then_reassign_records_both_in_history(tree, staffed):
    actor = tree.users["street"]
    old = staffed.building_chiefs[0]
    services.post_end(post=old, actor=actor)
    successor = person_at(tree.units[0], "接任者", "13900000051")
    new = services.post_assign(
        person=successor, role="building_chief", node=tree.buildings[0], actor=actor
    )
    assert Post.objects.get(pk=old.pk).ended_on is not None
    ended, created_old = history_of(old)  # newest first
    assert (ended.action, ended.actor, list(ended.changes)) == ("update", actor, ["ended_on"])
    assert ended.changes["ended_on"][0] is None
    assert (created_old.action, created_old.actor) == ("create", tree.users["admin"])
    [created] = history_of(new)
    assert created.action == "create" and created.actor == actor
    assert created.changes["person_id"] == [None, successor.pk]
    assert created.building_id == tree.buildings[0].pk  # located, so scoped like the post


def test_post_roles_for_each_level():
    assert services.post_roles_for("unit") == ["unit_chief", "reserve"]
    assert services.post_roles_for("community") == ["police_liaison", "reserve"]
    assert services.post_roles_for("street") == [
        "street_chief",
        "lane_chief",
        "zone_commander",
        "deputy_commander",
        "reserve",
    ]
