"""A round's page is drawn from coverage counted at most once a minute (`core.figcache`):
scans arrive all day, the page says when its figures were counted, and a login is never
shown figures counted over another scope."""

import datetime as dt
import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.core.testing import PASSWORD
from bastion.testing.conftest import scan
from bastion.testing.rounds import coverage


def shown_sampled(client, round_id: int) -> int:
    page = client.get(reverse("testing:round", args=[round_id])).content.decode()
    return int(re.search(r"<dt>Sampled</dt><dd>([\d,]+)</dd>", page).group(1).replace(",", ""))


def unsampled(testing, grid_index: int = 0):
    sampled = set(coverage._counted_scans(testing.round).values_list("resident_id", flat=True))
    return next(
        r for r in testing.residents_of(testing.tree.grids[grid_index]) if r.pk not in sampled
    )


def test_the_round_page_counts_again_once_a_minute_and_says_when(testing, monkeypatch):
    client = Client()
    assert client.login(username=testing.tree.users["street"].username, password=PASSWORD)
    counted = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: counted)
    before = shown_sampled(client, testing.round.pk)
    page = client.get(reverse("testing:round", args=[testing.round.pk])).content.decode()
    assert f"As of {timezone.localtime(counted):%H:%M}" in page

    assert scan(testing.stations[0], "CACHE-0001", unsampled(testing).id_number).ok
    monkeypatch.setattr(timezone, "now", lambda: counted + dt.timedelta(seconds=50))
    assert shown_sampled(client, testing.round.pk) == before  # not counted at each view

    later = counted + dt.timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert shown_sampled(client, testing.round.pk) == before + 1
    page = client.get(reverse("testing:round", args=[testing.round.pk])).content.decode()
    assert f"As of {timezone.localtime(later):%H:%M}" in page


def test_a_login_is_never_shown_coverage_counted_over_another_scope(testing):
    street, grid = testing.tree.street, testing.tree.grids[0]
    now = timezone.now()

    def draw(cov, late, counted_at):
        return cov.totals

    whole, _at = coverage.round_figures(
        testing.tree.users["street"], testing.round, street, now=now, projected=True, draw=draw
    )
    seen, _at = coverage.round_figures(
        testing.tree.users["grid"], testing.round, street, now=now, projected=True, draw=draw
    )
    own = coverage.coverage(testing.tree.users["grid"], testing.round, grid)
    assert seen["expected"] == own.totals["expected"] < whole["expected"]


def test_an_edit_to_the_round_shows_at_once(testing):
    client = Client()
    assert client.login(username=testing.tree.users["street"].username, password=PASSWORD)
    url = reverse("testing:round", args=[testing.round.pk])
    assert "elsewhere 5 in 1" in client.get(url).content.decode()
    testing.round.pool_size = 10
    testing.round.save(update_fields=["pool_size"])
    assert "elsewhere 10 in 1" in client.get(url).content.decode()
