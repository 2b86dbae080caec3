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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_night_shift_counts_under_today_after_midnight(tree, phone_page):
    """A place whose duty day starts soon: its night shift (the last of the previous duty
    day) is on now, past midnight of the calendar day it started on — as at 2 a.m. for a day
    starting at 08:00. "Today" is the duty day: the shift shows and its check-in counts."""
    import datetime as dt

    from django.utils import timezone

    now = timezone.localtime()
    start = min(now + dt.timedelta(hours=1), now.replace(hour=23, minute=59))
    start = start.replace(second=0, microsecond=0)
    if start <= now:
        pytest.skip("the last minute of the day: no duty day can start later today")
    duty = build_duty(tree)
    place = services.place_create(
        node=tree.grids[0],
        name="夜班卡口",
        kind="checkpoint",
        first_shift_at=start.time(),
        required=2,
        opened_on=now.date() - dt.timedelta(days=1),
    )
    duty_day = now.date() - dt.timedelta(days=1)  # the night shift started on it
    assert place.duty_day(now) == duty_day  # pinned by hand: the calendar date moved on
    night = services.roster_build(place=place, day=duty_day)[-1]
    assert night.starts_at <= now < night.ends_at
    on_duty = services.shift_assign(shift=night, person=duty.cadres[1])
    services.shift_assign(shift=night, person=duty.cadres[2])
    services.duty_check_in(assignment=on_duty)

    page = phone_page
    browser_login(page, "street", PASSWORD)
    page.goto(f"/people/mobilization/?node={tree.grids[0].pk}")
    figure = page.locator(".mb-figures .fig", has_text="今日已签到")
    assert figure.locator("dd").inner_text().replace(" ", "") == "1/2"
    page.goto(f"/people/mobilization/places/{place.pk}/")
    shift = page.locator("section.mb-shift.mb-now")
    assert shift.count() == 1 and "钱二" in shift.inner_text()
    page.goto(f"/people/mobilization/places/?node={tree.grids[0].pk}")
    card = page.locator("li.mb-place", has_text="夜班卡口")
    assert "已签到 1" in card.inner_text().replace("\n", " ")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
