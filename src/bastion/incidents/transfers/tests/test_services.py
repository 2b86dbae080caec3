"""Transfers: planned → on the way → arrived, cancelled with a reason; bad input refused with
the field named and nothing written; once per client id; both ends see it."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog
from bastion.incidents.transfers import services
from bastion.incidents.transfers.models import Transfer


def fields(err: DomainError) -> set[str]:
    return {p.field for p in err.problems}


def plan(tree, resident, hotel, **kw):
    args = {
        "actor": tree.users["grid"],
        "resident": resident,
        "destination": "quarantine",
        "to_place": hotel,
        "reason": "close_contact",
        "plate": "京A12345",
        "escort": "张医生",
    }
    return services.transfer_plan(**(args | kw))


def test_a_resident_goes_from_home_to_a_quarantine_site_and_arrives(tree, resident, hotel):
    t = plan(tree, resident, hotel)
    assert (t.state, t.name, t.from_household_id) == (
        "planned",
        resident.name,
        resident.household_id,
    )
    assert t.unit_id == resident.unit_id  # located on the from end
    left = timezone.now() - dt.timedelta(minutes=40)
    t = services.transfer_depart(actor=tree.users["grid"], transfer=t, at=left)
    assert (t.state, t.departed_at) == ("on_the_way", left)
    t = services.transfer_arrive(actor=tree.users["grid"], transfer=t)
    assert t.state == "arrived"
    changes = ChangeLog.objects.filter(object_type="incidents.transfer", object_id=t.pk)
    assert sorted(changes.values_list("action", flat=True)) == ["create", "update", "update"]


def test_an_arrival_before_the_departure_is_refused(tree, resident, hotel):
    t = plan(tree, resident, hotel)
    left = timezone.now() - dt.timedelta(minutes=10)
    services.transfer_depart(actor=tree.users["grid"], transfer=t, at=left)
    with pytest.raises(DomainError) as e:
        services.transfer_arrive(
            actor=tree.users["grid"], transfer=t, at=left - dt.timedelta(minutes=1)
        )
    assert fields(e.value) == {"arrived_at"}
    assert Transfer.objects.get(pk=t.pk).state == "on_the_way"


def test_a_departure_twice_is_refused(tree, resident, hotel):
    t = plan(tree, resident, hotel)
    first = timezone.now() - dt.timedelta(minutes=10)
    services.transfer_depart(actor=tree.users["grid"], transfer=t, at=first)
    with pytest.raises(DomainError) as e:
        services.transfer_depart(actor=tree.users["grid"], transfer=t)
    assert fields(e.value) == {"state"}
    assert Transfer.objects.get(pk=t.pk).departed_at == first


def test_arriving_before_departing_is_refused(tree, resident, hotel):
    t = plan(tree, resident, hotel)
    with pytest.raises(DomainError) as e:
        services.transfer_arrive(actor=tree.users["grid"], transfer=t)
    assert fields(e.value) == {"state"}


@pytest.mark.parametrize("plate", ["京A1234", "A12345", "京I12345", "京A12345X"])
def test_a_plate_that_is_not_a_plate_is_refused(tree, resident, hotel, plate):
    with pytest.raises(DomainError) as e:
        plan(tree, resident, hotel, plate=plate)
    assert fields(e.value) == {"plate"}
    assert not Transfer.objects.exists()


def test_the_plate_is_normalised_and_a_departure_needs_one(tree, resident, hotel):
    t = plan(tree, resident, hotel, plate="")
    with pytest.raises(DomainError) as e:
        services.transfer_depart(actor=tree.users["grid"], transfer=t)
    assert fields(e.value) == {"plate"}
    t = services.transfer_depart(actor=tree.users["grid"], transfer=t, plate="沪 ad·12345")
    assert t.plate == "沪AD12345"


def test_someone_not_on_the_register_from_a_checkpoint_to_a_hospital(tree, checkpoint):
    t = services.transfer_plan(
        actor=tree.users["grid"],
        name="李四",
        doc_kind="id_card",
        doc_number="11010519491231002x",
        from_place=checkpoint,
        destination="hospital",
        to_hospital="市第一人民医院",
        reason="fever",
        source="checkpoint",
        source_id=42,
    )
    assert (t.doc_number, t.grid_id, t.to_name) == (
        "11010519491231002X",
        tree.grids[0].pk,
        "市第一人民医院",
    )


def test_bad_input_names_every_field_and_writes_nothing(tree, checkpoint):
    with pytest.raises(DomainError) as e:
        services.transfer_plan(
            actor=tree.users["grid"],
            name="",
            doc_kind="id_card",
            doc_number="110105194912310021",  # a wrong check digit
            destination="hospital",
            to_hospital="",
            reason="bored",
        )
    assert fields(e.value) == {"name", "doc_number", "from_place", "to_hospital", "reason"}
    assert not Transfer.objects.exists()


def test_a_quarantine_destination_must_be_a_quarantine_site(tree, resident, checkpoint):
    with pytest.raises(DomainError) as e:
        plan(tree, resident, checkpoint)
    assert fields(e.value) == {"to_place"}


def test_cancel_needs_a_reason_and_an_arrived_one_cannot_be_cancelled(tree, resident, hotel):
    t = plan(tree, resident, hotel)
    with pytest.raises(DomainError) as e:
        services.transfer_cancel(actor=tree.users["grid"], transfer=t, reason=" ")
    assert fields(e.value) == {"reason"}
    t = services.transfer_cancel(actor=tree.users["grid"], transfer=t, reason="已居家隔离")
    assert (t.state, t.cancel_reason) == ("cancelled", "已居家隔离")
    with pytest.raises(DomainError) as e:
        services.transfer_depart(actor=tree.users["grid"], transfer=t)
    assert fields(e.value) == {"state"}


def test_a_retry_with_the_same_client_id_returns_the_first(tree, resident, hotel):
    cid = uuid.uuid4()
    first = plan(tree, resident, hotel, client_id=cid)
    again = plan(tree, resident, hotel, client_id=cid)
    assert first.pk == again.pk
    assert Transfer.objects.count() == 1


def test_both_ends_see_it_and_nobody_else(tree, resident, far_hotel):
    """From the first grid to the second community's hotel: the grid chief and the second
    community's staff see it, the chief of the first community's other grid does not."""
    from bastion.accounts.testing import login

    t = plan(tree, resident, far_hotel)
    other_community = login("c2", "community_staff", tree.communities[1])
    assert Transfer.objects.restrict(tree.users["grid"]).filter(pk=t.pk).exists()
    assert Transfer.objects.restrict(other_community, "change").filter(pk=t.pk).exists()
    assert not Transfer.objects.restrict(tree.users["other_grid"]).filter(pk=t.pk).exists()


def test_a_transfer_between_two_places_out_of_scope_is_refused(tree, resident, far_hotel):
    with pytest.raises(PermissionDenied):
        plan(tree, resident, far_hotel, actor=tree.users["other_grid"])
    assert not Transfer.objects.exists()


def test_a_time_without_a_zone_is_local_time(tree, resident, hotel):
    """A device that sends 09:00 without a zone means 09:00 here (not a crash comparing it
    with the stored departure)."""
    t = plan(tree, resident, hotel)
    local = timezone.localtime() - dt.timedelta(hours=1)
    naive = local.replace(tzinfo=None, microsecond=0)
    t = services.transfer_depart(actor=tree.users["grid"], transfer=t, at=naive)
    assert t.departed_at == local.replace(microsecond=0)
    with pytest.raises(DomainError) as e:
        services.transfer_arrive(
            actor=tree.users["grid"], transfer=t, at=naive - dt.timedelta(minutes=1)
        )
    assert fields(e.value) == {"arrived_at"}
