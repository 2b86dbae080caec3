"""A phone in full where it is needed to call someone: a request's contact, an errand's
household and courier, the courier's card. Only roles that may reveal; each reveal logged, on
the web and through the API (issue 14 item 14)."""

import pytest
from django.urls import reverse

from bastion.requests import services

HTMX = {"HX-Request": "true"}


@pytest.fixture
def phoned(make_request):
    return make_request(contact_phone="13912345678")


@pytest.fixture
def errand(staff, household, courier):
    e = services.errand_order(
        actor=staff,
        household=household,
        items=[services.ItemInput("布洛芬", "1盒")],
        urgency="medicine",
    )
    e = services.errand_accept(actor=staff, errand=e)
    return services.errand_assign(actor=staff, errand=e, courier=courier)


def test_a_requests_contact_phone_is_shown_in_full_and_logged(client, tree, phoned, reveal_log):
    client.force_login(tree.users["grid"])
    page = client.get(reverse("requests:detail", args=[phoned.pk])).content.decode()
    assert "139****5678" in page and "13912345678" not in page
    assert reverse("requests:phone", args=[phoned.pk]) in page  # the "Show" button
    shown = client.post(reverse("requests:phone", args=[phoned.pk]), headers=HTMX)
    assert shown.status_code == 200 and "13912345678" in shown.content.decode()
    entry = reveal_log.objects.get()
    assert (entry.user, entry.subject_type, entry.subject_id, entry.field, entry.via) == (
        tree.users["grid"],
        "request",
        phoned.pk,
        "contact_phone",
        "web",
    )


def test_an_errands_household_and_courier_phones(client, tree, errand, household, reveal_log):
    head = household.residents.get(relation="head")
    client.force_login(tree.users["grid"])
    page = client.get(reverse("requests:errand", args=[errand.pk])).content.decode()
    for whose in ("household", "courier"):
        assert reverse("requests:errand_phone", args=[errand.pk, whose]) in page
    assert head.phone not in page and "13900000001" not in page
    shown = client.post(reverse("requests:errand_phone", args=[errand.pk, "household"]))
    assert head.phone in shown.content.decode()
    shown = client.post(reverse("requests:errand_phone", args=[errand.pk, "courier"]))
    assert "13900000001" in shown.content.decode()
    assert sorted(reveal_log.objects.values_list("subject_type", "field")) == [
        ("person", "phone"),
        ("resident", "phone"),
    ]


def test_the_couriers_card_shows_the_households_phone_masked_to_a_volunteer(
    client, tree, errand, household, courier, reveal_log
):
    head = household.residents.get(relation="head")
    client.force_login(courier.user)  # a volunteer: may not reveal
    page = client.get(reverse("requests:courier")).content.decode()
    assert f"{head.phone[:3]}****{head.phone[-4:]}" in page
    assert reverse("requests:errand_phone", args=[errand.pk, "household"]) not in page
    refused = client.post(reverse("requests:errand_phone", args=[errand.pk, "household"]))
    assert refused.status_code == 403
    assert not reveal_log.objects.exists()


def test_a_grid_chief_carrying_an_errand_may_reveal_on_the_card(
    client, tree, staff, household, reveal_log
):
    from bastion.people.services import person_create

    chief = person_create(name="网格长老李", kind="cadre", phone="13700000002", home=household)
    chief.user = tree.users["grid"]
    chief.save()
    e = services.errand_order(
        actor=staff, household=household, items=[services.ItemInput("米", "1袋")], urgency="normal"
    )
    e = services.errand_accept(actor=staff, errand=e)
    services.errand_assign(actor=staff, errand=e, courier=chief)
    client.force_login(tree.users["grid"])
    page = client.get(reverse("requests:courier")).content.decode()
    assert reverse("requests:errand_phone", args=[e.pk, "household"]) in page


def test_the_api_reveals_by_role_and_logs(api_as, tree, phoned, errand, household, reveal_log):
    head = household.residents.get(relation="head")
    chief = api_as(tree.users["grid"])
    got = chief.post(f"/api/v1/requests/requests/{phoned.pk}/phone")
    assert got.status_code == 200, got.content
    assert got.json() == {"whose": "contact", "value": "13912345678"}
    got = chief.post(f"/api/v1/requests/errands/{errand.pk}/phone/household")
    assert got.json() == {"whose": "household", "value": head.phone}
    assert chief.post(f"/api/v1/requests/errands/{errand.pk}/phone/nobody").status_code == 422
    assert set(reveal_log.objects.values_list("via", flat=True)) == {"api"}
    building = api_as(tree.users["building"])  # a building chief may not reveal
    assert building.post(f"/api/v1/requests/requests/{phoned.pk}/phone").status_code == 403
    other = api_as(tree.users["other_grid"])  # another grid: not found
    assert other.post(f"/api/v1/requests/errands/{errand.pk}/phone/courier").status_code == 404
    assert reveal_log.objects.count() == 2
