"""The response on the pages: the retest list with each retest's state, its hold and the
round's figures (filterable by state), the traceback of a positive pool with its response
and who has read the notification, the hold on the resident page — and none of it for
another grid's login."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from bastion.core.testing import PASSWORD
from bastion.testing.conftest import scan
from bastion.testing.results import services
from bastion.testing.scans.models import Tube


def login(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def responded(testing):
    """Pool P-0001 (five of grid 1) positive; two retested, one of them negative."""
    pool = testing.residents_of(testing.tree.buildings[0])[:5]
    for r in pool:
        assert scan(testing.stations[0], "P-0001", r.id_number).ok
    services.results_import(
        actor=testing.admin, round=testing.round, rows=[services.ResultRow(2, "P-0001", "阳性")]
    )
    for i, r in enumerate(pool[:2]):
        assert scan(testing.stations[0], f"S-000{i + 1}", r.id_number, single=True).retest
    services.results_import(
        actor=testing.admin, round=testing.round, rows=[services.ResultRow(2, "S-0001", "阴性")]
    )
    return pool


def test_the_retest_page_shows_states_holds_and_the_response(testing, responded):
    url = reverse("testing:retests", args=[testing.round.pk])
    page = login(testing.tree.users["grid"]).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Positive-pool response" in html
    assert html.count('class="tag ok">Negative') == 1
    assert html.count('class="tag quiet">Sampled') == 1
    assert html.count('class="tag warm">Retest due') == 3
    assert html.count("stay in place") == 4  # one released by the negative retest
    assert ">2/5<" in html and ">1/5<" in html  # retested, resulted
    assert "0 of 2 read" in html  # the notification's receipts, linked

    due = login(testing.tree.users["grid"]).get(url, {"state": "pending"}).content.decode()
    assert due.count('class="tag warm">Retest due') == 3 and 'class="tag ok">Negative' not in due


def test_the_retest_tables_name_each_cell_for_a_phone(testing, responded):
    """On a phone the tables read as cards: every cell carries its column's name."""
    url = reverse("testing:retests", args=[testing.round.pk])
    html = login(testing.tree.users["grid"]).get(url).content.decode()
    tables = re.findall(r'<table class="data stack[^"]*">(.*?)</table>', html, re.S)
    assert len(tables) == 2  # the positive pools, and the people to retest
    for table in tables:
        heads = re.findall(r'<th scope="col">(.*?)</th>', table)
        rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
        assert rows
        for row in rows:
            assert re.findall(r'<td data-label="(.*?)"', row) == heads


def test_the_traceback_of_a_positive_pool_shows_its_response(testing, responded):
    tube = Tube.objects.get(barcode="P-0001")
    page = login(testing.tree.users["grid"]).get(reverse("testing:tube", args=[tube.pk]))
    html = page.content.decode()
    assert "Response to this positive pool" in html
    assert "Notified: 0 of 2 read" in html
    assert html.count("stay in place") == 4
    assert "Result to everyone retested" in html


def test_the_resident_page_shows_the_hold(testing, responded):
    held, released = responded[2], responded[0]
    grid = login(testing.tree.users["grid"])
    html = grid.get(reverse("geo:resident", args=[held.pk])).content.decode()
    assert "Stay in place (positive pool)" in html and "P-0001" in html
    html = grid.get(reverse("geo:resident", args=[released.pk])).content.decode()
    assert "Stay in place (positive pool)" in html and "stay in place" not in html
    other = login(testing.tree.users["other_grid"])
    assert other.get(reverse("geo:resident", args=[held.pk])).status_code == 404


def test_another_grid_sees_no_retest_and_no_response(testing, responded):
    other = login(testing.tree.users["other_grid"])
    html = other.get(reverse("testing:retests", args=[testing.round.pk])).content.decode()
    assert "Positive-pool response" not in html and "P-0001" not in html
    tube = Tube.objects.get(barcode="P-0001")
    assert other.get(reverse("testing:tube", args=[tube.pk])).status_code == 404
    inbox = other.get(reverse("notices:inbox")).content.decode()
    assert "P-0001" not in inbox
