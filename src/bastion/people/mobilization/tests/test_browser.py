"""A point chief checks in a shift on a 390 px phone, in Debian's chromium."""

import pytest

from bastion.core.testing import PASSWORD, browser_login
from bastion.people.mobilization import services
from bastion.people.mobilization.models import CheckEvent
from bastion.people.mobilization.tests.mobilization_data import build_duty, place_now


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_point_chief_checks_in_a_shift_on_a_phone(tree, phone_page):
    duty = build_duty(tree)
    place, day = place_now(tree.grids[0], "北门卡口", chief=duty.cadres[0])
    [now, *_] = services.roster_build(place=place, day=day)
    qian = services.shift_assign(shift=now, person=duty.cadres[1])
    services.shift_assign(shift=now, person=duty.cadres[2])

    page = phone_page
    browser_login(page, "pointchief", PASSWORD)
    page.goto("/people/mobilization/duty/")
    section = page.locator("section.mb-led", has_text="北门卡口")
    row = section.locator("li.mb-duty", has_text="钱二")
    button = row.locator(f"form[action$='/assignments/{qian.pk}/check-in/'] button")
    assert button.is_visible()
    box = button.bounding_box()
    assert box["x"] + box["width"] <= 390 and box["height"] >= 40  # a thumb's target
    button.click()
    page.wait_for_url("**/people/mobilization/duty/")
    row = page.locator("section.mb-led", has_text="北门卡口").locator("li.mb-duty", has_text="钱二")
    row.locator("details.mb-checkout").wait_for()  # checked in: check-out is offered now
    assert "mb-in" in row.get_attribute("class")
    event = CheckEvent.objects.get(assignment=qian)
    assert (event.kind, event.by_id) == ("in", duty.chief_user.pk)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The other one on the shift has not checked in yet.
    assert not CheckEvent.objects.filter(assignment__person=duty.cadres[2]).exists()
    page.goto(f"/people/mobilization/places/{place.pk}/?day={day.isoformat()}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
