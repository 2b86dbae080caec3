"""The screening pages, driven through Django's test client: each renders, and each form
does its one write through the service."""

import uuid
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bastion.geo.models import Resident
from bastion.screening import services
from bastion.screening.models import (
    Callback,
    CallList,
    CallRow,
    Campaign,
    CampaignHousehold,
    Finding,
    FollowUp,
    Visit,
)
from bastion.screening.tests.conftest import walking_order
from bastion.screening.tests.test_call_lists import NOT_REGISTERED_ID, csv_file

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_pages_render_for_a_grid_chief(client, tree, campaign, mark):
    h = walking_order(tree.grids[0])
    mark(h[0], "not_reachable", days_ago=1)
    client.force_login(tree.users["grid"])
    grid_url = reverse("screening:grid", args=[campaign.pk, tree.grids[0].pk])
    assert client.get(reverse("screening:today")).url == grid_url
    page = client.get(grid_url).content.decode()
    # Yesterday's failure is the first card; all 16 households are on the list.
    assert page.count('<li class="sc-card') == 16
    assert page.index(f'id="hh-{h[0].pk}"') < page.index(f'id="hh-{h[1].pk}"')
    for url in (
        reverse("screening:index"),
        reverse("screening:campaign", args=[campaign.pk]),
        reverse("screening:household", args=[campaign.pk, h[0].pk]),
        reverse("screening:callbacks"),
        reverse("screening:follow_ups"),
    ):
        assert client.get(url).status_code == 200, url


def test_one_tap_marks_a_household_and_a_retry_is_harmless(client, tree, campaign):
    household = walking_order(tree.grids[0])[2]
    client.force_login(tree.users["grid"])
    url = reverse("screening:household_mark", args=[campaign.pk, household.pk])
    form = {"mark": "reached:phone", "client_id": str(uuid.uuid4())}
    response = client.post(url, form, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "sc-done-item" in body and 'hx-swap-oob="true"' in body
    assert client.post(url, form, **HTMX).status_code == 200  # the phone retried
    entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
    assert (entry.status, entry.channel, entry.attempts) == ("reached", "phone", 1)
    assert Visit.objects.get().by == tree.users["grid"]
    # Without htmx the form posts and comes back to the list.
    other = walking_order(tree.grids[0])[3]
    response = client.post(
        reverse("screening:household_mark", args=[campaign.pk, other.pk]),
        {"mark": "away:", "client_id": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    assert CampaignHousehold.objects.get(campaign=campaign, household=other).status == "away"
    # A bad mark is refused: the card comes back with the reason, and nothing is written.
    # (The URL is built again: a text replace of the household id also hit the campaign id
    # whenever the two were equal, as they can be on PostgreSQL.)
    response = client.post(
        reverse("screening:household_mark", args=[campaign.pk, other.pk]),
        {"mark": "reached:", "client_id": str(uuid.uuid4())},
        **HTMX,
    )
    assert 'class="sc-card' in response.content.decode()
    assert "alert error" in response.content.decode()
    assert Visit.objects.count() == 2


def test_findings_per_resident_from_the_household_page(client, tree, campaign, today):
    household = walking_order(tree.grids[0])[0]
    first, second = Resident.objects.filter(household=household).order_by("id")
    client.force_login(tree.users["grid"])
    url = reverse("screening:household_mark", args=[campaign.pk, household.pk])
    data = {
        "findings": "1",
        "mark": "reached:visit",
        "client_id": str(uuid.uuid4()),
        f"r{first.pk}-temperature": "38.4",
        f"r{first.pk}-cough": "on",
        f"r{first.pk}-health_code": "yellow",
        f"r{second.pk}-temperature": "",
        f"r{second.pk}-travel_place": "长春",
    }
    response = client.post(url, data)  # travel place without a date: refused, page again
    assert response.status_code == 422
    assert "has-error" in response.content.decode() and not Visit.objects.exists()
    data[f"r{second.pk}-travel_date"] = str(today)
    assert client.post(url, data).status_code == 302
    finding = Finding.objects.get(resident=first)
    assert (finding.temperature, finding.fever, finding.cough, finding.health_code) == (
        Decimal("38.4"),
        True,
        True,
        "yellow",
    )
    assert Finding.objects.get(resident=second).travel_place == "长春"
    assert FollowUp.objects.get().resident == first


def test_opening_a_campaign_from_its_form(client, tree, today):
    client.force_login(tree.users["community"])
    url = reverse("screening:campaign_new")
    page = client.get(url).content.decode()
    assert "社区1" in page and "社区2" not in page  # only areas the login may change
    response = client.post(
        url,
        {
            "node": tree.communities[0].pk,
            "name": "第一轮",
            "starts_on": today,
            "ends_on": today,
            "client_id": str(uuid.uuid4()),
        },
    )
    campaign = Campaign.objects.get()
    assert response.url == reverse("screening:campaign", args=[campaign.pk])
    assert campaign.households.count() == 32
    response = client.post(
        url,
        {
            "node": tree.communities[1].pk,
            "name": "越权",
            "starts_on": today,
            "ends_on": today,
            "client_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 200 and Campaign.objects.count() == 1


def test_importing_settling_and_calling_back(client, tree):
    a, e, f = Resident.objects.filter(name__in=["居民1", "居民5", "居民6"]).order_by("id")
    Resident.objects.filter(pk=f.pk).update(phone=e.phone)
    client.force_login(tree.users["street"])
    url = reverse("screening:call_list_import")
    assert client.get(url).status_code == 200
    bad = csv_file([("张三", "123", "", "", "退烧", "", "")])
    response = client.post(
        url,
        {
            "node": tree.street.pk,
            "kind": "pharmacy",
            "name": "",
            "client_id": str(uuid.uuid4()),
            "file": SimpleUploadedFile("bad.csv", bad),
        },
    )
    assert response.status_code == 200 and not CallList.objects.exists()
    assert "sc-problems" in response.content.decode()
    good = csv_file(
        [
            (a.name, a.id_number, "", "", "退烧", "", ""),
            ("某人", "", e.phone, "", "退烧", "", ""),
            ("陌生人", NOT_REGISTERED_ID, "", "", "退烧", "", ""),
            ("小名", "", "", "后街5号", "退烧", "", ""),
        ]
    )
    response = client.post(
        url,
        {
            "node": tree.street.pk,
            "kind": "pharmacy",
            "name": "名单",
            "client_id": str(uuid.uuid4()),
            "file": SimpleUploadedFile("good.csv", good),
        },
    )
    call_list = CallList.objects.get()
    assert response.url == reverse("screening:call_list", args=[call_list.pk])
    assert client.get(response.url).status_code == 200
    ambiguous, unmatched, nickname = CallRow.objects.exclude(status="matched").order_by("row")
    resolve = reverse("screening:call_row_resolve", args=[ambiguous.pk])
    assert client.post(resolve, {"resident": f.pk}).status_code == 302
    client.post(reverse("screening:call_row_resolve", args=[unmatched.pk]), {"outside": "on"})
    # Someone who knows the person gives their full ID number.
    someone = Resident.objects.get(name="居民9")
    lookup = reverse("screening:call_row_resolve", args=[nickname.pk])
    client.post(lookup, {"lookup": someone.id_number[:-1]})  # not a full number: refused
    assert CallRow.objects.get(pk=nickname.pk).status == "unmatched"
    client.post(lookup, {"lookup": someone.id_number})
    assert dict(CallRow.objects.values_list("row", "status")) == {
        2: "matched",
        3: "matched",
        4: "outside",
        5: "matched",
    }
    assert CallRow.objects.get(pk=nickname.pk).resident == someone
    callback = Callback.objects.get(resident=f)
    url = reverse("screening:callback", args=[callback.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"fever_now": "yes", "temperature": "38.1", "client_id": str(uuid.uuid4())}
    )
    assert response.status_code == 302
    callback.refresh_from_db()
    assert (callback.status, callback.fever_now) == ("done", True)
    follow_up = FollowUp.objects.get()
    response = client.post(
        reverse("screening:follow_up_close", args=[follow_up.pk]),
        {f"f{follow_up.pk}-outcome": "核酸阴性"},
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.outcome == "核酸阴性" and follow_up.closed_on is not None


def test_a_list_takes_more_rows_from_its_page(client, tree):
    a = Resident.objects.get(name="居民1")
    listed = services.call_list_open(
        actor=tree.users["street"], node=tree.street, kind="tracing", name="密接"
    )
    url = reverse("screening:call_rows_add", args=[listed.pk])
    contacts = csv_file([(a.name, a.id_number, "", "")], ("姓名", "身份证号", "手机号", "地址"))
    client.force_login(tree.users["volunteer"])  # may look, not add
    response = client.post(url, {"file": SimpleUploadedFile("c.csv", contacts)})
    assert response.status_code in (403, 404) and not listed.rows.exists()
    client.force_login(tree.users["street"])
    page = client.get(reverse("screening:call_list", args=[listed.pk])).content.decode()
    assert url in page
    response = client.post(url, {"file": SimpleUploadedFile("c.csv", contacts)}, follow=True)
    assert list(listed.rows.values_list("resident_id", flat=True)) == [a.pk]
    said = [str(m) for m in response.context["messages"]]
    assert said == ["Rows added: 1, matched to residents: 1."]
