"""The missing list and the home-visit list: exported to Excel from the page (every resident,
numbers masked) and shown a page at a time, so a street's list is not one page of 500 KB
(issue 14 item 16)."""

import io

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from bastion.core.testing import PASSWORD
from bastion.geo.models import Presence, Resident
from bastion.testing.conftest import scan
from bastion.testing.rounds import views


def login(username: str) -> Client:
    client = Client(headers={"accept-language": "zh-hans"})
    assert client.login(username=username, password=PASSWORD)
    return client


def rows_of(response) -> list[tuple]:
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [tuple(r) for r in sheet.iter_rows(values_only=True)]


def test_the_missing_list_comes_in_pages_and_as_a_whole_workbook(testing, monkeypatch):
    street = testing.tree.street
    home = list(Resident.objects.filter(street_id=street.pk, presence=Presence.HOME).order_by("pk"))
    sampled = home[:3]
    for r in sampled:
        assert scan(testing.stations[0], "M-0001", r.id_number).ok
    missing = [r for r in home if r not in sampled]
    assert len(missing) > 10
    monkeypatch.setattr(views, "PAGE_SIZE", 10)
    client = login("street")
    url = reverse("testing:missing", args=[testing.round.pk])

    first = client.get(url, {"node": street.pk}).content.decode()
    second = client.get(url, {"node": street.pk, "page": 2}).content.decode()
    on_first = {r.pk for r in missing if f"{r.name} <" in first}
    on_second = {r.pk for r in missing if f"{r.name} <" in second}
    assert len(on_first) == 10 and on_second and not on_first & on_second
    assert "page=2" in first and f"第 1 / {-(-len(missing) // 10)} 页" in first

    book = rows_of(client.get(url, {"node": street.pk, "format": "xlsx"}))
    header, body = book[0], book[1:]
    assert header[:6] == ("网格", "楼栋", "单元", "楼层", "房号", "姓名")
    assert sorted(row[5] for row in body) == sorted(r.name for r in missing)  # every page
    text = repr(body)
    for r in missing:
        assert r.id_number not in text  # masked
        if r.phone:
            assert r.phone not in text
    assert any(
        row[6] == f"{r.id_number[:4]}{'*' * 10}{r.id_number[-4:]}"
        for r in missing[:1]
        for row in body
    )


def test_the_home_visit_list_exports_its_people(testing):
    grid = testing.tree.grids[0]
    people = testing.residents_of(grid)[:2]
    Resident.objects.filter(pk=people[0].pk).update(immobile=True)
    Resident.objects.filter(pk=people[1].pk).update(disabled=True)
    client = login("grid")
    url = reverse("testing:home_visits", args=[testing.round.pk])
    page = client.get(url, {"node": grid.pk}).content.decode()
    assert "format=xlsx" in page
    expected = set(
        Resident.objects.filter(grid_id=grid.pk, presence=Presence.HOME)
        .filter(immobile=True)
        .values_list("name", flat=True)
    ) | set(
        Resident.objects.filter(grid_id=grid.pk, presence=Presence.HOME)
        .filter(disabled=True)
        .values_list("name", flat=True)
    )
    body = rows_of(client.get(url, {"node": grid.pk, "format": "xlsx"}))[1:]
    assert {row[5] for row in body} == expected
    # Another grid's chief gets nothing of this grid.
    other = login("other_grid").get(url, {"node": grid.pk, "format": "xlsx"})
    assert other.status_code == 404
