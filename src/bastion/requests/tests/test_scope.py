"""Scope: a grid chief walks every requests page and API route with another grid's ids and
gets nothing (404) and writes nothing; lists hold only the chief's own grid."""

import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from bastion.accounts.models import ApiToken
from bastion.core.models import ChangeLog
from bastion.core.photos import photos_check
from bastion.requests import services
from bastion.requests.models import Errand, HouseholdLink, Photo, Request
from bastion.requests.tests.conftest import households_of, png_upload


@pytest.fixture
def world(tree, staff, household, other_household, meetings, courier):
    """Rows on the chief's grid (grids[0]) and on the next grid (grids[1]) of the same
    community, one of each kind."""
    street = tree.users["street"]
    theirs = services.request_create(
        actor=street,
        household=other_household,
        channel="phone",
        category="water",
        title="别的网格",
        photos=photos_check([png_upload()]),
    )
    waiting = services.request_triage(
        actor=street,
        track="handle_now",
        request=(
            services.request_create(
                actor=street,
                household=other_household,
                channel="phone",
                category="water",
                title="待认领",
            )
        ),
    )
    errand = services.errand_order(
        actor=street,
        household=other_household,
        urgency="medicine",
        items=[services.ItemInput("药")],
    )
    services.link_issue(actor=street, household=other_household)
    mine = services.request_create(
        actor=staff, household=household, channel="phone", category="water", title="本网格"
    )
    own_errand = services.errand_order(
        actor=staff, household=household, urgency="normal", items=[services.ItemInput("米")]
    )
    return {
        "request": theirs.pk,
        "waiting": waiting.pk,
        "errand": errand.pk,
        "photo": theirs.photos.get().pk,
        "household": other_household.pk,
        "building": other_household.building_id,
        "meeting": meetings[0].pk,
        "mine": mine.pk,
        "own_errand": own_errand.pk,
        "courier": courier.pk,
    }


def _written() -> tuple:
    return (
        ChangeLog.objects.count(),
        Request.objects.count(),
        Errand.objects.count(),
        HouseholdLink.objects.count(),
        Photo.objects.count(),
        list(Request.objects.order_by("pk").values_list("status", flat=True)),
        list(Errand.objects.order_by("pk").values_list("status", flat=True)),
    )


PAGES = [
    ("get", "requests:detail", ["request"], {}),
    ("post", "requests:act", ["waiting", "claim"], {}),
    ("post", "requests:act", ["request", "triage"], {"track": "handle_now"}),
    ("post", "requests:act", ["request", "close"], {"result": "x"}),
    ("get", "requests:photo", ["photo"], {}),
    ("get", "requests:errand", ["errand"], {}),
    ("post", "requests:errand_act", ["errand", "accept"], {}),
    ("post", "requests:errand_act", ["errand", "cancel"], {"reason": "x"}),
    ("post", "requests:errand_act", ["errand", "pick_up"], {}),
    ("get", "requests:meeting", ["meeting"], {}),
    ("get", "requests:minutes", ["meeting"], {}),
    ("post", "requests:meeting", ["meeting"], {"notes": "x"}),
    ("post", "requests:meeting_assign", ["meeting", "request"], {}),
    ("get", "requests:link", ["household"], {}),
    ("get", "requests:link_qr", ["household"], {}),
    ("post", "requests:link_act", ["household", "renew"], {}),
    ("post", "requests:link_act", ["household", "revoke"], {}),
    ("get", "requests:link_sheet", ["building"], {}),
    ("post", "requests:links_issue", ["building"], {}),
]


def test_another_grids_pages_are_not_found(client, tree, world):
    client.force_login(tree.users["grid"])
    before = _written()
    for method, name, args, data in PAGES:
        url = reverse(name, args=[world.get(a, a) for a in args])
        response = client.get(url) if method == "get" else client.post(url, data)
        assert response.status_code == 404, (method, name, args)
    assert _written() == before


def test_another_grids_places_are_not_offered(client, tree, world):
    client.force_login(tree.users["grid"])
    for name in ("requests:new", "requests:errand_new"):
        nodes = client.get(reverse(name)).context["form"].fields["node"].queryset
        assert nodes.exists() and not nodes.exclude(grid_id=tree.grids[0].pk).exists()
    buildings = client.get(reverse("requests:links")).context["buildings"]
    assert {b.grid_id for b in buildings} == {tree.grids[0].pk}
    response = client.post(
        reverse("requests:new"),
        {
            "node": households_of(tree.grids[1])[0].unit_id,
            "room": "101",
            "channel": "phone",
            "category": "water",
            "title": "x",
            "client_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 200 and "node" in response.context["form"].errors


API = [
    ("get", "/requests/{request}", None),
    ("post", "/requests/{waiting}/claim", {}),
    ("post", "/requests/{request}/triage", {"track": "handle_now"}),
    ("post", "/requests/{request}/close", {"result": "x"}),
    ("post", "/requests/{request}/rate", {"rating": 5}),
    (
        "post",
        "/requests",
        {"household_id": "household", "channel": "phone", "category": "water", "title": "x"},
    ),
    ("get", "/errands/{errand}", None),
    ("post", "/errands/{errand}/accept", {}),
    ("post", "/errands/{errand}/pick-up", {}),
    ("post", "/errands/{errand}/cancel", {"reason": "x"}),
    ("post", "/errands/{own_errand}/assign", {"courier_id": "foreign_person"}),
    (
        "post",
        "/errands",
        {"household_id": "household", "urgency": "normal", "items": [{"name": "米"}]},
    ),
    ("get", "/meetings/{meeting}", None),
    ("post", "/meetings/{meeting}/hold", None),
    ("get", "/households/{household}/link", None),
    ("post", "/households/{household}/link", {"renew": True}),
    ("post", "/households/{household}/link/revoke", None),
    ("post", "/buildings/{building}/links", None),
    ("get", "/figures?node_id={building}", None),
]


def test_another_grids_api_routes_are_not_found(client, tree, world):
    from bastion.people.services import person_create

    foreign = person_create(
        name="外网格志愿者",
        kind="volunteer",
        phone="13900000009",
        home=households_of(tree.grids[1])[3],
    )
    token = ApiToken.issue(tree.users["grid"])
    world = world | {"foreign_person": foreign.pk}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    before = _written()
    for method, path, body in API:
        url = "/api/v1/requests" + path.format(**world)
        if body:
            body = {k: world.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
        if method == "get":
            response = client.get(url, **headers)
        else:
            response = client.post(
                url, json.dumps(body or {}), content_type="application/json", **headers
            )
        assert response.status_code == 404, (method, path, response.content)
    assert _written() == before


def test_lists_hold_only_the_chiefs_own_grid(client, tree, world):
    token = ApiToken.issue(tree.users["grid"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(path):
        return client.get("/api/v1/requests" + path, **headers).json()

    assert [r["id"] for r in get("/requests")] == [world["mine"]]
    assert [e["id"] for e in get("/errands")] == [world["own_errand"]]
    assert get("/meetings") == []
    assert get("/overdue") == {"requests": [], "errands": []}
    client.force_login(tree.users["grid"])
    page = client.get(reverse("requests:index"), {"inbox": "open"}).content.decode()
    assert "本网格" in page and "别的网格" not in page
    board = client.get(reverse("requests:errands")).context["board"]
    assert [e.pk for e in board.errands] == [world["own_errand"]]


def test_a_volunteer_may_look_but_not_move(client, tree, world):
    client.force_login(tree.users["volunteer"])
    assert client.get(reverse("requests:detail", args=[world["mine"]])).status_code == 200
    response = client.post(
        reverse("requests:act", args=[world["mine"], "triage"]), {"track": "handle_now"}
    )
    assert response.status_code == 403
    assert Request.objects.get(pk=world["mine"]).status == "new"
    assert client.get(reverse("requests:new")).status_code == 403


def test_meetings_belong_to_community_staff(client, tree, world):
    client.force_login(tree.users["community"])
    assert client.get(reverse("requests:meeting", args=[world["meeting"]])).status_code == 200
    other = services.meeting_schedule(
        actor=tree.users["admin"],
        community=tree.communities[1],
        title="别的社区",
        starts_at=timezone.now(),
    )
    assert client.get(reverse("requests:meeting", args=[other.pk])).status_code == 404
