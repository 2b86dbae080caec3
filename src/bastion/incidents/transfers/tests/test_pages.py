"""The transfer pages and API: plan on the phone form, the two buttons, the list by
destination, the resident's page, masking and the logged reveal, the daily figure."""

import datetime as dt
import uuid

from django.utils import timezone

from bastion.incidents.transfers import queries, services
from bastion.incidents.transfers.models import Transfer


def test_the_phone_form_plans_a_resident_to_the_hotel_and_the_buttons_move_it(
    client, tree, resident, hotel
):
    client.force_login(tree.users["grid"])
    page = client.get(f"/transfers/plan/?resident={resident.pk}")
    assert page.status_code == 200 and hotel.name in page.content.decode()
    answer = client.post(
        "/transfers/plan/",
        {
            "resident": resident.pk,
            "destination": "quarantine",
            "to_place": hotel.pk,
            "reason": "close_contact",
            "plate": "京a12345",
            "client_id": str(uuid.uuid4()),
        },
    )
    assert answer.status_code == 302
    t = Transfer.objects.get()
    assert (t.to_place_id, t.plate, t.state) == (hotel.pk, "京A12345", "planned")
    listed = client.get("/transfers/?view=today").content.decode()
    assert hotel.name in listed and f"/transfers/{t.pk}/depart/" in listed
    client.post(f"/transfers/{t.pk}/depart/")
    assert Transfer.objects.get().state == "on_the_way"
    on_the_way = client.get("/transfers/?view=on_the_way").content.decode()
    assert resident.name in on_the_way
    client.post(f"/transfers/{t.pk}/arrive/")
    assert Transfer.objects.get().state == "arrived"


def test_a_bad_plate_on_the_form_is_named_and_nothing_is_written(client, tree, resident, hotel):
    client.force_login(tree.users["grid"])
    answer = client.post(
        "/transfers/plan/",
        {"resident": resident.pk, "destination": "quarantine", "to_place": hotel.pk,
         "reason": "fever", "plate": "京A1234"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert "京A1234" in answer.content.decode()
    assert not Transfer.objects.exists()


def test_the_resident_page_lists_their_transfers(client, tree, resident, hotel):
    services.transfer_plan(
        actor=tree.users["grid"], resident=resident, destination="hospital",
        to_hospital="市传染病医院", reason="positive",
    )  # fmt: skip
    client.force_login(tree.users["grid"])
    page = client.get(f"/geo/resident/{resident.pk}/").content.decode()
    assert "市传染病医院" in page


def test_names_and_reasons_are_masked_for_a_volunteer_and_shown_to_the_grid_chief(
    client, tree, checkpoint
):
    services.transfer_plan(
        actor=tree.users["grid"], name="李小明", doc_kind="id_card",
        doc_number="11010519491231002X", from_place=checkpoint, destination="hospital",
        to_hospital="市第一人民医院", reason="positive",
    )  # fmt: skip
    client.force_login(tree.users["volunteer"])
    page = client.get("/transfers/").content.decode()
    assert "市第一人民医院" in page
    assert "李小明" not in page and "Positive case" not in page and "11010519491231002X" not in page
    client.force_login(tree.users["grid"])
    page = client.get("/transfers/").content.decode()
    assert "李小明" in page and "Positive case" in page and "11010519491231002X" not in page


def test_showing_the_full_document_is_logged(client, tree, checkpoint, reveal_log):
    t = services.transfer_plan(
        actor=tree.users["grid"], name="李小明", doc_kind="id_card",
        doc_number="11010519491231002X", from_place=checkpoint, destination="hospital",
        to_hospital="市第一人民医院", reason="positive",
    )  # fmt: skip
    client.force_login(tree.users["grid"])
    answer = client.post(f"/transfers/{t.pk}/reveal/")
    assert "11010519491231002X" in answer.content.decode()
    assert reveal_log.objects.filter(subject_id=t.pk, field="doc_number").count() == 1
    client.force_login(tree.users["volunteer"])
    assert client.post(f"/transfers/{t.pk}/reveal/").status_code == 403


def test_the_api_plans_once_per_client_id_and_refuses_a_second_departure(
    api_as, tree, resident, hotel
):
    api = api_as(tree.users["grid"])
    body = {
        "resident_id": resident.pk, "destination": "quarantine", "to_place_id": hotel.pk,
        "reason": "close_contact", "plate": "京A12345", "client_id": str(uuid.uuid4()),
    }  # fmt: skip
    first = api.post("/api/v1/transfers/", body, content_type="application/json")
    again = api.post("/api/v1/transfers/", body, content_type="application/json")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and Transfer.objects.count() == 1
    tid = first.json()["id"]
    left = api.post(f"/api/v1/transfers/{tid}/depart", {}, content_type="application/json")
    assert left.status_code == 200 and left.json()["state"] == "on_the_way"
    twice = api.post(f"/api/v1/transfers/{tid}/depart", {}, content_type="application/json")
    assert twice.status_code == 422
    assert [p["field"] for p in twice.json()["errors"]] == ["state"]
    early = api.post(
        f"/api/v1/transfers/{tid}/arrive",
        {"at": (timezone.now() - dt.timedelta(days=1)).isoformat()},
        content_type="application/json",
    )
    assert early.status_code == 422
    assert [p["field"] for p in early.json()["errors"]] == ["arrived_at"]


def test_the_list_by_destination_counts_each_end(tree, resident, hotel):
    grid = tree.users["grid"]
    for _ in range(2):
        services.transfer_plan(
            actor=grid, resident=resident, destination="quarantine", to_place=hotel,
            reason="close_contact",
        )  # fmt: skip
    services.transfer_plan(
        actor=grid, resident=resident, destination="hospital", to_hospital="市传染病医院",
        reason="positive",
    )  # fmt: skip
    rows = queries.by_destination(queries.transfer_list(grid, view="all"))
    assert [(r["name"], r["open"]) for r in rows] == [("如家隔离酒店", 2), ("市传染病医院", 1)]
    only = queries.transfer_list(grid, view="all", to=f"place:{hotel.pk}")
    assert only.count() == 2


def test_the_daily_figure_counts_departures_by_the_from_grid(tree, resident, hotel):
    t = services.transfer_plan(
        actor=tree.users["grid"], resident=resident, destination="quarantine", to_place=hotel,
        reason="close_contact", plate="京A12345",
    )  # fmt: skip
    services.transfer_depart(actor=tree.users["grid"], transfer=t)
    today = timezone.localdate()
    grids = [g.pk for g in tree.grids]
    assert queries.daily_figures(today, grids) == {tree.grids[0].pk: {"transferred": 1}}
    assert queries.daily_figures(today - dt.timedelta(days=1), grids) == {}


def test_the_change_page_reads_a_transfer_in_chinese(tree, resident, hotel):
    from django.test import Client
    from django.urls import reverse

    services.transfer_plan(
        actor=tree.users["grid"], resident=resident, destination="quarantine", to_place=hotel,
        reason="close_contact", plate="京A12345",
    )  # fmt: skip
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(tree.users["admin"])
    response = client.get(reverse("accounts:changes"), {"object_type": "incidents.transfer"})
    [created] = response.context["entries"]
    assert created.kind == "转运"
    shown = {c.label: c.new for c in created.changes}
    assert shown["隔离场所"] == hotel.name and shown["车牌"] == "京A12345"
    assert (
        shown["转出住户"]
        == f"{resident.building.name} {resident.unit.name} {resident.household.room}"
    )
