"""A resident knows their estate, not always their community (issue 14 item 17): the site
finder finds a community by the name of an estate in it (its buildings' names), and says
which estate matched."""

from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from bastion.geo.models import Node


def test_an_estate_name_finds_its_community(tree):
    cache.clear()
    second = tree.communities[1]
    building = Node.objects.filter(level="building", community_id=second.pk).order_by("path")[0]
    Node.objects.filter(pk=building.pk).update(name="银河小区3号楼")
    page = Client().get(reverse("finder"), {"q": "银河小区"})
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("finder_community", args=[second.pk]) in html
    assert reverse("finder_community", args=[tree.communities[0].pk]) not in html
    assert "银河小区3号楼" in html
    cache.clear()
