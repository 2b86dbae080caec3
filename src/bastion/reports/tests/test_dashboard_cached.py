"""The dashboard is drawn from figures counted once (`core.figcache`), not at each view:
counted again when a report is computed, frozen or submitted, else once a minute; and a login
is never shown figures counted over another scope."""

import datetime as dt
import re

import pytest
from django.db.models import F
from django.urls import reverse

from bastion.core.testing import PASSWORD
from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.geo.models import Household, Resident
from bastion.reports import queries, services
from bastion.reports.models import DailyFigure


@pytest.fixture
def day():
    return services.local_today()


@pytest.fixture
def computed(tree, plugin, day, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.report_compute(day=day)
    return tree


def weighted(data: dict) -> int:
    return next(f["value"] for f in data["figures"] if f["key"] == "weighted")


def shown_weighted(client, node) -> int:
    page = client.get(reverse("reports:dashboard", args=[node.pk])).content.decode()
    value = re.search(r'data-key="weighted">\s*<dt>[^<]*</dt>\s*<dd>([\d,]+)', page)
    return int(value.group(1).replace(",", ""))


def expected_weighted(node, day: dt.date) -> int:
    """The plug-in's formula (conftest.grid_fingerprint) counted here: 3 per resident and
    the day of the month per grid."""
    grids = node.subtree().filter(level="grid").count() if node.level != "grid" else 1
    column = f"{node.level}_id"
    return 3 * Resident.objects.filter(**{column: node.pk}).count() + grids * day.day


def test_the_page_is_drawn_from_figures_counted_once_until_a_report_is_computed(
    computed, client, day, django_capture_on_commit_callbacks
):
    street = computed.street
    assert client.login(username=computed.users["street"].username, password=PASSWORD)
    before = shown_weighted(client, street)
    assert before == expected_weighted(street, day)

    # A write behind the services' back is not counted at the next view: the page is not
    # counting again.
    DailyFigure.objects.filter(street_id=street.pk, key="weighted").update(value=F("value") + 1000)
    assert shown_weighted(client, street) == before

    # A new resident and the report computed again: the page shows it at once.
    household = Household.objects.filter(street_id=street.pk).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        geo.resident_create(
            household=household,
            name="新居民",
            id_number=make_id_number("220421", dt.date(1990, 5, 6), 777),
            relation="other",
        )
        services.report_compute(day=day)
    assert shown_weighted(client, street) == before + 3 == expected_weighted(street, day)


def test_a_grids_submission_shows_on_the_parents_dashboard_at_once(
    computed, client, day, django_capture_on_commit_callbacks
):
    community = computed.communities[0]
    assert client.login(username=computed.users["community"].username, password=PASSWORD)
    url = reverse("reports:dashboard", args=[community.pk])
    assert "<b>0</b> on time" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.grid_report_submit(
            grid=computed.grids[0],
            day=day,
            actor=computed.users["grid"],
            now=services.freeze_moment(day) - dt.timedelta(hours=1),
        )
    assert "<b>1</b> on time" in client.get(url).content.decode()


def test_figures_are_counted_again_after_a_minute(computed, day):
    street, user = computed.street, computed.users["street"]
    now = services.freeze_moment(day) - dt.timedelta(hours=2)
    first, at = queries.dashboard_figures(user, street, day, now)
    assert at == now
    DailyFigure.objects.filter(street_id=street.pk, key="weighted").update(value=F("value") + 1000)

    later, at_later = queries.dashboard_figures(user, street, day, now + dt.timedelta(seconds=59))
    assert weighted(later) == weighted(first) and at_later == now

    moved = now + dt.timedelta(seconds=61)
    fresh, at_fresh = queries.dashboard_figures(user, street, day, moved)
    assert weighted(fresh) == weighted(first) + 4 * 1000  # the street's four grids
    assert at_fresh == moved


def test_a_login_is_never_shown_figures_counted_over_another_scope(computed, day):
    """The street commander's figures of the street are cached first; a grid chief asking
    for the same node gets the figures of the rows in the chief's own scope (its grid)."""
    street, grid = computed.street, computed.grids[0]
    now = services.freeze_moment(day) - dt.timedelta(hours=2)
    whole, _at = queries.dashboard_figures(computed.users["street"], street, day, now)
    assert weighted(whole) == expected_weighted(street, day)

    seen, _at = queries.dashboard_figures(computed.users["grid"], street, day, now)
    assert weighted(seen) == expected_weighted(grid, day) < weighted(whole)

    # Another login whose view holds the whole street shares the street commander's entry.
    DailyFigure.objects.filter(street_id=street.pk, key="weighted").update(value=F("value") + 1)
    admin, _at = queries.dashboard_figures(computed.users["admin"], street, day, now)
    assert weighted(admin) == weighted(whole)


def test_the_api_dashboard_is_drawn_from_the_same_figures(computed, api_as):
    street = computed.street
    call = api_as(computed.users["street"])
    url = f"/api/v1/reports/nodes/{street.pk}/dashboard"
    before = weighted(call.get(url).json())
    DailyFigure.objects.filter(street_id=street.pk, key="weighted").update(value=F("value") + 1000)
    assert weighted(call.get(url).json()) == before
