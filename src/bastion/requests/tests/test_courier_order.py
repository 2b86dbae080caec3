"""Picking a courier (issue 14 item 17): the list puts who is on duty now first, then the
nearest (the errand's grid, then its community, then the rest of the street), and anyone who
said they are unavailable last; each entry says how near and whether on duty."""

import datetime as dt

from django.utils import timezone

from bastion.people.mobilization import services as mobilization
from bastion.people.mobilization.models import Assignment, Shift
from bastion.people.services import person_create
from bastion.requests import queries, services
from bastion.requests.forms import CourierForm
from bastion.requests.tests.conftest import households_of


def _volunteer(name: str, grid, n: int):
    return person_create(
        name=name, kind="volunteer", phone=f"1390000{n:04d}", home=households_of(grid)[n % 8]
    )


def test_on_duty_first_then_nearest_then_the_unavailable(tree, staff, household):
    grid, same_community, far = tree.grids[0], tree.grids[1], tree.grids[2]
    assert household.grid_id == grid.pk and same_community.community_id == grid.community_id
    away = _volunteer("甲不在", grid, 1)
    far_one = _volunteer("乙远处", far, 2)
    next_grid = _volunteer("丙邻格", same_community, 3)
    own_grid = _volunteer("丁本格", grid, 4)
    on_duty = _volunteer("戊值班", same_community, 5)
    mobilization.availability_set(person=away, status="unavailable", actor=staff)
    place = mobilization.place_create(node=same_community, name="东门值守点", kind="guard_point")
    now = timezone.now()
    shift = Shift(
        place=place,
        day=timezone.localdate(),
        index=0,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3),
        required=1,
    )
    shift.locate(place)
    shift.save()
    duty = Assignment(shift=shift, person=on_duty, starts_at=shift.starts_at, ends_at=shift.ends_at)
    duty.locate(place)
    duty.save()

    errand = services.errand_order(
        actor=staff,
        household=household,
        urgency="medicine",
        items=[services.ItemInput("布洛芬", "1盒")],
    )
    chosen = list(queries.courier_choices(tree.users["street"], errand))
    assert [p.name for p in chosen] == ["戊值班", "丁本格", "丙邻格", "乙远处", "甲不在"]
    labels = dict(CourierForm(couriers=chosen).fields["courier"].choices)
    assert labels[on_duty.pk] == "戊值班 · Volunteer · this community · on duty now"
    assert labels[own_grid.pk] == "丁本格 · Volunteer · this grid"
    assert labels[far_one.pk] == "乙远处 · Volunteer · elsewhere in the street"
    assert labels[away.pk].endswith("unavailable")
    assert labels[next_grid.pk] == "丙邻格 · Volunteer · this community"
