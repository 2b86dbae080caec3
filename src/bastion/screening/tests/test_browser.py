"""A grid chief clears households from their list on a 390 px phone, in Debian's chromium:
yesterday's not-cleared household on top, one tap, the card turns into a done line and the
counts move, without a page load."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bastion.core.testing import PASSWORD, browser_login
from bastion.geo.models import Resident
from bastion.screening.models import CampaignHousehold, Finding, Visit
from bastion.screening.tests.conftest import walking_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_grid_chief_clears_households_on_a_phone(tree, campaign, mark, phone_page):
    h = walking_order(tree.grids[0])
    mark(h[5], "not_reachable", days_ago=1)
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto("/screening/today/")  # one grid, one campaign: straight to the list
    cards = page.locator("#sc-left > li.sc-card")
    expect(cards).to_have_count(16)
    first = cards.first
    expect(first).to_have_attribute("id", f"hh-{h[5].pk}")  # not cleared yesterday: first
    expect(first).to_have_class("sc-card sc-carried")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tap = first.locator('button[value="reached:phone"]')
    box = tap.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 90  # a thumb's target

    tap.click()
    done = page.locator(f"#sc-left > li.sc-done-item:has(a[href*='/households/{h[5].pk}/'])")
    expect(done).to_be_visible()
    expect(cards).to_have_count(15)
    expect(page.locator("#sc-progress .sc-counts dd").nth(1)).to_have_text("15")  # left today
    entry = CampaignHousehold.objects.get(campaign=campaign, household=h[5])
    assert (entry.status, entry.channel, entry.attempts) == ("reached", "phone", 2)

    # The next one needs findings: open it, give a temperature, say it was a visit.
    cards.first.locator("a.sc-more").click()
    resident = Resident.objects.filter(household=h[0]).order_by("id").first()
    page.locator(f"#id_r{resident.pk}-temperature").fill("38.1")
    page.locator(f"label.sc-chip:has(#id_r{resident.pk}-cough)").click()
    page.locator('form.sc-visit button[value="reached:visit"]').click()
    expect(page.locator("#sc-left > li.sc-card")).to_have_count(14)
    finding = Finding.objects.get(resident=resident)
    assert (finding.temperature, finding.fever, finding.cough) == (Decimal("38.1"), True, True)
    assert Visit.objects.count() == 3
