"""A commander opens a testing round, adds a sampling site with its stations, writes the site's
plan and opens a station for the round — all from the pages, in Debian's chromium on a 390 px
phone and on a desktop, Chinese first: a refused form shows the reason at the field and writes
nothing; a good one first says what will be created, and only the confirmation creates it."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from bastion.core.testing import PASSWORD, browser_login
from bastion.geo.models import Node, Resident
from bastion.testing.rounds.models import Round, Shift, Site, SiteArea

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=[390, 1280], ids=["phone", "desktop"])
def page(request, browser, live_server):
    width = request.param
    context = browser.new_context(
        viewport={"width": width, "height": 844}, locale="zh-CN", base_url=live_server.url
    )
    page = context.new_page()
    page.width = width
    yield page
    context.close()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_commander_opens_a_round_a_site_and_its_plan_from_the_pages(testing, page):
    from playwright.sync_api import expect

    tree = testing.tree
    grid = tree.grids[0]
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.width
    browser_login(page, "street", PASSWORD)

    # The round list offers to open a round; the form refuses an end before the start at
    # the field and writes nothing.
    page.goto(reverse("testing:index"))
    page.click(f"a[href='{reverse('testing:round_new')}']")
    page.select_option("#id_node", str(grid.pk))
    page.fill("#id_name", "网格1-1 加密检测")
    now = timezone.now()
    page.fill("#id_starts_at", local(now - dt.timedelta(minutes=5)))
    page.fill("#id_ends_at", local(now - dt.timedelta(hours=1)))
    page.fill("#id_tube_pattern", r"JS\d{6}")
    page.click("form.ts-form button[type=submit]")
    error = page.locator(".field.has-error:has(#id_ends_at) .errorlist")
    expect(error).to_be_visible()
    expect(page.locator(".ts-confirm")).to_have_count(0)
    assert page.input_value("#id_name") == "网格1-1 加密检测"  # what was typed stays
    assert not Round.objects.filter(name="网格1-1 加密检测").exists()

    # Corrected: first what will be opened (the grid's residents, counted here), then the
    # round, only on confirmation.
    page.fill("#id_ends_at", local(now + dt.timedelta(hours=10)))
    page.click("form.ts-form button[type=submit]")
    confirm = page.locator(".ts-confirm")
    expect(confirm).to_be_visible()
    residents = Resident.objects.filter(grid_id=grid.pk).count()
    expect(confirm).to_contain_text(f"{residents:,}")
    expect(confirm).to_contain_text(r"JS\d{6}")
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"round-new-confirm-{width}.png"), full_page=True)
    assert not Round.objects.filter(name="网格1-1 加密检测").exists()
    page.click("button[name=confirm]")
    page.wait_for_url("**/testing/rounds/*/")
    round_ = Round.objects.get(name="网格1-1 加密检测")
    assert (round_.node_id, round_.tube_pattern, round_.pool_size) == (grid.pk, r"JS\d{6}", 10)
    assert round_.created_by.username == "street"
    expect(page.locator("h1")).to_have_text("网格1-1 加密检测")
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"round-opened-{width}.png"), full_page=True)

    # A site with two stations, serving the grid's buildings (none chosen: all of them).
    page.goto(reverse("testing:sites"))
    page.click(f"a[href='{reverse('testing:site_new')}']")
    page.select_option("#id_node", str(grid.pk))
    page.fill("#id_name", "网格1-1 临时采样点")
    page.fill("#id_address", "1号楼前广场")
    page.fill("#id_stations", "2")
    page.click("form.ts-form button[type=submit]")
    confirm = page.locator(".ts-confirm")
    expect(confirm).to_be_visible()
    buildings = list(Node.objects.filter(level="building", grid_id=grid.pk).order_by("path"))
    expect(confirm).to_contain_text(buildings[0].name)
    assert not Site.objects.filter(name="网格1-1 临时采样点").exists()
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"site-new-confirm-{width}.png"), full_page=True)
    page.click("button[name=confirm]")
    page.wait_for_url("**/testing/sites/*/")
    site = Site.objects.get(name="网格1-1 临时采样点")
    assert site.stations.count() == 2
    assert {a.building_id for a in SiteArea.objects.filter(site=site)} == {b.pk for b in buildings}

    # The site's plan (一点一方案) written from the page.
    page.click(f"a[href='{reverse('testing:site_edit', args=[site.pk])}']")
    page.fill("#id_plan", "单向通行：北门进，南门出；一米线排队。")
    page.fill("#id_opens_at", "06:30")
    page.click("form.ts-form button[type=submit]")
    page.wait_for_url(f"**{reverse('testing:site', args=[site.pk])}")
    expect(page.locator(".ts-plan-notes")).to_contain_text("北门进，南门出")
    site.refresh_from_db()
    assert site.opens_at == dt.time(6, 30) and "一米线" in site.plan

    # A third station, then the first opened for the new round.
    page.fill("form.ts-inline-form input[name=name]", "3号台")
    page.click("form.ts-inline-form button")
    expect(page.locator(".ts-plan")).to_contain_text("3号台")
    assert site.stations.count() == 3
    first = site.stations.order_by("name").first()
    page.click(
        f"form[action='{reverse('testing:station_toggle', args=[first.pk])}']"
        f":has(input[value='{round_.pk}']) button"
    )
    expect(page.locator(".ts-plan")).to_contain_text(round_.name)
    assert Shift.objects.get(station=first, closed_at__isnull=True).round_id == round_.pk
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"site-plan-{width}.png"), full_page=True)


def test_a_volunteer_is_not_offered_to_open_a_round(testing, client):
    client.login(username="volunteer", password=PASSWORD)
    assert reverse("testing:round_new") not in client.get(reverse("testing:index")).content.decode()
    assert client.get(reverse("testing:round_new")).status_code == 403
    assert client.get(reverse("testing:site_new")).status_code == 403
    site = testing.sites[0]
    assert client.post(reverse("testing:site_edit", args=[site.pk]), {}).status_code == 403
