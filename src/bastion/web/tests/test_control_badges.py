"""The control level is shown where people look (issue 14 item 3): on a 390 px phone in
Chinese, a sealed building's page, its households and residents, the grid chief's door-knock
list of today, an errand, and the household's own page, which stops sending a sealed household
out to a sampling site and says what applies. The levels of a list are read in one query."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bastion.core.testing import PASSWORD, browser_login
from bastion.geo.models import Household, Resident
from bastion.incidents import services as incidents
from bastion.incidents.queries import level_over_rows
from bastion.requests import services as requests
from bastion.screening import services as screening


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_phone_shows_a_sealed_building_everywhere_people_look(tree, phone_page, tmp_path):
    street, grid = tree.users["street"], tree.users["grid"]
    sealed, other = tree.buildings[0], tree.buildings[1]  # both on the grid chief's grid
    incidents.control_set(actor=street, node=sealed, level="sealed", reason="阳性病例")
    household = Household.objects.filter(building=sealed).order_by("id").first()
    resident = Resident.objects.filter(household=household).first()
    today = timezone.localdate()
    campaign = screening.campaign_open(
        actor=street,
        node=tree.street,
        name="敲门行动",
        starts_on=today,
        ends_on=today + dt.timedelta(days=3),
    )
    errand = requests.errand_order(
        household=household,
        items=[requests.ItemInput(name="布洛芬", quantity="1盒")],
        urgency="medicine",
        actor=grid,
    )
    token = requests.link_token(requests.link_issue(actor=grid, household=household))
    page = phone_page
    browser_login(page, "grid", PASSWORD)

    page.goto(reverse("geo:building", args=[sealed.pk]))
    expect(page.locator(".page-head .ctl-badge")).to_have_text("封控区")
    page.screenshot(path=tmp_path / "building.png", full_page=True)
    page.goto(reverse("geo:building", args=[other.pk]))
    expect(page.locator(".page-head h1")).to_have_text(other.name)
    expect(page.locator(".ctl-badge")).to_have_count(0)
    page.goto(reverse("geo:household", args=[household.pk]))
    expect(page.locator(".page-head .ctl-badge")).to_have_text("封控区")
    page.goto(reverse("geo:resident", args=[resident.pk]))
    expect(page.locator(".page-head .ctl-badge")).to_have_text("封控区")

    # The chief's list of today: the sealed building's 8 households carry it, the other's not.
    page.goto(reverse("screening:grid", args=[campaign.pk, tree.grids[0].pk]))
    expect(page.locator("#sc-left .sc-card")).to_have_count(16)
    expect(page.locator("#sc-left .ctl-badge")).to_have_count(8)
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "grid-today.png", full_page=True)

    page.goto(reverse("requests:errand", args=[errand.pk]))
    expect(page.locator(".page-head .ctl-badge")).to_have_text("封控区")
    assert fits_the_phone(page)

    # The household's own page: what applies to it, and no trip to a sampling site.
    page.goto(f"/requests/h/{token}/")
    expect(page.locator(".rq-control h2")).to_have_text("您家位于封控区")
    expect(page.locator(".rq-control")).to_contain_text("上门采样")
    expect(page.get_by_role("link", name="查找附近的核酸采样点")).to_have_count(0)
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "home-sealed.png", full_page=True)


def test_the_levels_of_a_list_are_read_in_one_query(tree, django_assert_num_queries):
    admin = tree.users["admin"]
    incidents.control_set(actor=admin, node=tree.grids[0], level="controlled", reason="密接")
    incidents.control_set(actor=admin, node=tree.units[0], level="sealed", reason="阳性")
    incidents.control_set(actor=admin, node=tree.communities[1], level="precaution", reason="邻区")
    rows = list(Household.objects.order_by("id"))  # 128 households, 32 per grid
    with django_assert_num_queries(1):
        levels = level_over_rows(rows)
    by_grid = {}
    for row, level in zip(rows, levels, strict=True):
        by_grid.setdefault((row.grid_id, row.unit_id == tree.units[0].pk), set()).add(level)
    assert by_grid == {
        (tree.grids[0].pk, True): {"sealed"},
        (tree.grids[0].pk, False): {"controlled"},
        (tree.grids[1].pk, False): {None},
        (tree.grids[2].pk, False): {"precaution"},
        (tree.grids[3].pk, False): {"precaution"},
    }


def test_the_area_list_heads_the_start_and_names_the_setter_by_person(tree, client):
    from bastion.people.services import person_create

    grid = tree.users["grid"]
    person = person_create(name="王网格", kind="cadre", phone="13712345678", node=tree.grids[0])
    person.user = grid
    person.save(update_fields=["user"])
    incidents.control_set(actor=grid, node=tree.buildings[0], level="sealed", reason="阳性病例")
    client.force_login(grid)
    zh = client.get("/incidents/", headers={"accept-language": "zh-hans"}).content.decode()
    row = zh.split("<tbody>")[1]
    assert "王网格" in row and ">grid<" not in row
    head = zh.split("<thead>")[1].split("</thead>")[0]
    assert "开始时间" in head and "任职日期" not in head
