"""The errand form's place list reads as addresses (grid · building · unit) and is searched
on the server as the clerk types (issue 14 item 5)."""

import re

from django.urls import reverse


def options(html: str) -> list[str]:
    return [text for _, text in re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', html)]


def test_the_errand_form_lists_units_by_their_full_address(client, tree):
    client.force_login(tree.users["grid"])
    html = client.get(reverse("requests:errand_new")).content.decode()
    listed = options(html)
    # the grid chief's grid: two buildings of two units, each named in full
    assert listed == [
        "网格1-1 · 111号楼 · 1单元",
        "网格1-1 · 111号楼 · 2单元",
        "网格1-1 · 112号楼 · 1单元",
        "网格1-1 · 112号楼 · 2单元",
    ]
    assert 'id="place-q"' in html


def test_the_place_search_keeps_the_units_holding_every_word(client, tree):
    client.force_login(tree.users["community"])
    url = reverse("requests:errand_places")
    assert options(client.get(url, {"q": "112号楼 2单元"}).content.decode()) == [
        "网格1-1 · 112号楼 · 2单元"
    ]
    assert options(client.get(url, {"q": "网格1-2"}).content.decode()) == [
        "网格1-2 · 121号楼 · 1单元",
        "网格1-2 · 121号楼 · 2单元",
        "网格1-2 · 122号楼 · 1单元",
        "网格1-2 · 122号楼 · 2单元",
    ]
    none = client.get(url, {"q": "银河小区"}).content.decode()
    assert options(none) == [] and "银河小区" in none


def test_the_place_search_stays_in_scope(client, tree):
    client.force_login(tree.users["grid"])  # 网格1-1 only
    html = client.get(reverse("requests:errand_places"), {"q": "网格2-1"}).content.decode()
    assert options(html) == []
    assert options(client.get(reverse("requests:errand_places")).content.decode())[0] == (
        "网格1-1 · 111号楼 · 1单元"
    )
