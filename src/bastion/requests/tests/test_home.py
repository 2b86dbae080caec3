"""The household's own page: its secret link opens its household only, shows no staff data,
opens no staff page or staff API, stops working when revoked or renewed; submissions from it
are idempotent; its API under /mine does the same."""

import json
import uuid

import pytest
from django.urls import reverse

from bastion.requests import services
from bastion.requests.models import Errand, HouseholdLink, Request
from bastion.requests.tests.conftest import png_upload


@pytest.fixture
def links(staff, household, other_household, tree):
    mine = services.link_issue(actor=staff, household=household)
    theirs = services.link_issue(actor=tree.users["street"], household=other_household)
    return mine, theirs


@pytest.fixture
def token(links):
    return services.link_token(links[0])


def home_url(token, name="requests:home", *args):
    return reverse(name, args=[token, *args])


def test_token_is_an_hmac_not_stored(links):
    link = links[0]
    token = services.link_token(link)
    assert token.startswith(f"{link.pk}-") and len(token) < 40
    assert token.split("-", 1)[1] not in str(
        HouseholdLink.objects.filter(pk=link.pk).values().get()
    )
    assert services.link_from_token(token) == link
    forged = f"{link.pk}-{'A' * 24}"
    assert services.link_from_token(forged) is None
    assert services.link_from_token(f"{links[1].pk}-{token.split('-', 1)[1]}") is None
    assert services.link_from_token("") is None and services.link_from_token("x-y") is None


def test_home_shows_own_household_only(
    client, token, links, staff, household, other_household, make_request
):
    mine = make_request(title="我家的下水道")
    theirs = make_request(household=other_household, actor=None, title="别人家的事")
    page = client.get(home_url(token))
    body = page.content.decode()
    assert page.status_code == 200
    assert "我家的下水道" in body and "别人家的事" not in body
    assert page["Cache-Control"] == "private, no-store"
    assert page["Referrer-Policy"] == "same-origin"
    assert client.get(home_url(token, "requests:home_request", mine.pk)).status_code == 200
    assert client.get(home_url(token, "requests:home_request", theirs.pk)).status_code == 404
    errand = services.errand_order(
        actor=staff, household=other_household, urgency="normal", items=[services.ItemInput("米")]
    )
    assert client.get(home_url(token, "requests:home_errand", errand.pk)).status_code == 404
    assert (
        client.post(
            home_url(token, "requests:home_act", "errand", errand.pk, "cancel"), {"reason": "x"}
        ).status_code
        == 404
    )
    errand.refresh_from_db()
    assert errand.status == "ordered"


def test_no_staff_data_on_the_household_page(client, token, staff, tree, bring, courier, household):
    tree.users["grid"].first_name = "王网格长"
    staff.save()
    r = bring("done", "handle_now")
    e = services.errand_order(
        actor=staff, household=household, urgency="medicine", items=[services.ItemInput("布洛芬")]
    )
    e = services.errand_accept(actor=staff, errand=e)
    e = services.errand_assign(actor=staff, errand=e, courier=courier)
    pages = [
        client.get(home_url(token)),
        client.get(home_url(token, "requests:home_request", r.pk)),
        client.get(home_url(token, "requests:home_errand", e.pk)),
    ]
    for page in pages:
        body = page.content.decode()
        assert page.status_code == 200
        for secret in (
            courier.name,
            courier.phone,
            staff.get_username(),
            "logout",
            "/geo/",
            "/people/",
        ):
            assert secret not in body, secret
    assert e.delivery_code in pages[2].content.decode()


def test_token_opens_no_staff_page_or_api(client, token, bring):
    r = bring("new")
    for url in (
        reverse("requests:index"),
        reverse("requests:detail", args=[r.pk]),
        reverse("requests:errands"),
        reverse("web:home"),
    ):
        response = client.get(url, HTTP_X_HOUSEHOLD_TOKEN=token)
        assert response.status_code == 302 and "/login/" in response["Location"]
    for url in (
        "/api/v1/requests/requests",
        f"/api/v1/requests/requests/{r.pk}",
        "/api/v1/geo/nodes",
    ):
        assert client.get(url, HTTP_X_HOUSEHOLD_TOKEN=token).status_code == 401
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_revoked_or_renewed_link_is_refused(client, links, staff, household):
    old = services.link_token(links[0])
    assert client.get(home_url(old)).status_code == 200
    renewed = services.link_issue(actor=staff, household=household, renew=True)
    assert client.get(home_url(old)).status_code == 404
    new = services.link_token(renewed)
    assert client.get(home_url(new)).status_code == 200
    assert services.link_revoke(actor=staff, household=household)
    assert client.get(home_url(new)).status_code == 404
    assert client.get("/api/v1/requests/mine", HTTP_X_HOUSEHOLD_TOKEN=new).status_code == 401
    assert (
        client.post(
            home_url(new, "requests:home_request_new"), {"category": "water", "title": "x"}
        ).status_code
        == 404
    )
    assert not Request.objects.exists()


def test_issue_returns_the_active_link(staff, household, links):
    assert services.link_issue(actor=staff, household=household) == links[0]
    assert services.links_issue_many(actor=staff, households=[household]) == 0


def test_household_raises_rates_and_reopens(client, token, household, staff):
    form = client.get(home_url(token, "requests:home_request_new")).context["form"]
    key = form.initial["client_id"]
    data = {
        "category": "drainage",
        "title": "厨房下水道堵了",
        "description": "",
        "urgency": "urgent",
        "client_id": key,
        "photos": [png_upload()],
    }
    first = client.post(home_url(token, "requests:home_request_new"), data)
    data["photos"] = [png_upload()]
    again = client.post(home_url(token, "requests:home_request_new"), data)  # a retry
    r = Request.objects.get()
    assert first.status_code == again.status_code == 302
    assert (r.household, r.channel, r.created_by, r.photos.count()) == (
        household,
        "resident_page",
        None,
        1,
    )
    photo = r.photos.get()
    assert client.get(home_url(token, "requests:home_photo", photo.pk)).status_code == 200
    r = services.request_triage(actor=staff, request=r, track="handle_now")
    r = services.request_claim(actor=staff, request=r)
    r = services.request_done(actor=staff, request=r, result="已疏通")
    client.post(
        home_url(token, "requests:home_act", "request", r.pk, "rate"),
        {"rating": "2", "comment": "慢", "client_id": str(uuid.uuid4())},
    )
    r.refresh_from_db()
    assert (r.status, r.rating) == ("closed", 2)
    client.post(
        home_url(token, "requests:home_act", "request", r.pk, "reopen"), {"reason": "又堵了"}
    )
    r.refresh_from_db()
    assert (r.status, r.reopen_count, r.reopen_reason) == ("waiting", 1, "又堵了")
    refused = client.post(
        home_url(token, "requests:home_act", "request", r.pk, "reopen"),
        {"reason": "again"},
        follow=True,
    )
    assert "only once" in refused.content.decode()
    r.refresh_from_db()
    assert r.reopen_count == 1  # refused: only once, and nothing changed


def test_household_orders_and_confirms(client, token, household, staff, courier):
    form = client.get(home_url(token, "requests:home_errand_new")).context["form"]
    key = form.initial["client_id"]
    data = {
        "urgency": "medicine",
        "items": "布洛芬 × 1盒\n连花清瘟 × 2盒",
        "payment_note": "到付",
        "client_id": key,
    }
    client.post(home_url(token, "requests:home_errand_new"), data)
    client.post(home_url(token, "requests:home_errand_new"), data)
    e = Errand.objects.get()
    assert (e.household, e.priority, e.created_by) == (household, 0, None)
    page = client.get(home_url(token, "requests:home_errand", e.pk)).content.decode()
    assert e.delivery_code in page
    e = services.errand_accept(actor=staff, errand=e)
    e = services.errand_assign(actor=staff, errand=e, courier=courier)
    e = services.errand_pick_up(actor=courier.user, errand=e)
    e = services.errand_deliver(actor=courier.user, errand=e, code=e.delivery_code)
    client.post(
        home_url(token, "requests:home_act", "errand", e.pk, "confirm"),
        {"rating": "5", "client_id": str(uuid.uuid4())},
    )
    e.refresh_from_db()
    assert (e.status, e.rating) == ("confirmed", 5)


def test_household_api(client, token, links, other_household, staff):
    headers = {"HTTP_X_HOUSEHOLD_TOKEN": token}

    def post(path, body):
        return client.post(
            "/api/v1/requests" + path, json.dumps(body), content_type="application/json", **headers
        )

    key = str(uuid.uuid4())
    body = {"category": "power", "title": "停电了", "client_id": key}
    created = post("/mine/requests", body)
    assert created.status_code == 201, created.content
    assert post("/mine/requests", body).status_code == 200  # a retry
    rid = created.json()["id"]
    assert Request.objects.get().created_by is None
    errand = post(
        "/mine/errands",
        {"urgency": "medicine", "items": [{"name": "布洛芬"}], "client_id": str(uuid.uuid4())},
    )
    assert errand.status_code == 201 and len(errand.json()["delivery_code"]) == 4
    mine = client.get("/api/v1/requests/mine", **headers).json()
    assert [r["id"] for r in mine["requests"]] == [rid]
    assert "claimed_by" not in mine["requests"][0] and "courier" not in mine["errands"][0]
    other = services.request_create(
        actor=staff, household=other_household, channel="phone", category="water", title="别家"
    )
    assert client.get(f"/api/v1/requests/mine/requests/{other.pk}", **headers).status_code == 404
    assert post(f"/mine/requests/{other.pk}/reopen", {"reason": "x"}).status_code == 404
    refused = post(f"/mine/requests/{rid}/rate", {"rating": 5})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "status"
    photos = client.post(
        f"/api/v1/requests/mine/requests/{rid}/photos", {"photos": [png_upload()]}, **headers
    )
    assert photos.status_code == 201, photos.content
    bad = client.post(
        f"/api/v1/requests/mine/requests/{rid}/photos",
        {"photos": [png_upload("x.png", b"not an image")]},
        **headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "photos"
