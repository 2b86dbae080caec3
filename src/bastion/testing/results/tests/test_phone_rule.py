"""One rule for the phone numbers shown with a post (issue 15, item 6): a current five
chief's number is public (the building notice prints it), so every answer shows it in full;
everyone else's (site staff, zone command, reserve) is masked in every answer, pages and API,
and shown only through the logged reveal."""

from django.test import Client

from bastion.accounts.models import RevealLog
from bastion.accounts.testing import api_client
from bastion.people import services as people
from bastion.testing.conftest import person, scan
from bastion.testing.scans.models import Tube


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_sites_staff_numbers_are_masked_in_the_api_and_on_the_page(testing):
    site = testing.sites[0]
    for role in ("grid", "volunteer"):
        body = api_client(testing.tree.users[role]).get(f"/api/v1/testing/sites/{site.pk}")
        assert body.status_code == 200, role
        phones = [p["phone"] for p in body.json()["posts"]]
        assert phones == ["137****0003", "137****0001", "137****0002"], role
    page = web(testing.tree.users["grid"]).get(f"/testing/sites/{site.pk}/")
    html = page.content.decode()
    assert "137****0001" in html and "13700000001" not in html
    assert "/reveal/phone/" in html  # the grid chief may reveal (logged)
    volunteer = web(testing.tree.users["volunteer"]).get(f"/testing/sites/{site.pk}/")
    assert "/reveal/phone/" not in volunteer.content.decode()
    assert not RevealLog.objects.exists()


def test_a_chief_is_shown_alike_by_the_traceback_and_the_posts_and_others_masked(testing):
    tree = testing.tree
    building, unit = tree.buildings[0], tree.units[0]
    chief = people.post_assign(
        person=person(unit, "楼长甲", "13611110001"),
        role="building_chief",
        node=building,
        actor=testing.admin,
    )
    reserve = people.post_assign(
        person=person(unit, "机动乙", "13611110002"),
        role="reserve",
        node=tree.grids[0],
        actor=testing.admin,
    )
    resident = testing.residents_of(unit)[0]
    assert scan(testing.stations[0], "T-0001", resident.id_number).ok
    tube = Tube.objects.get(barcode="T-0001")
    for role in ("volunteer", "building", "grid"):
        api = api_client(tree.users[role])
        traced = api.get(f"/api/v1/testing/tubes/{tube.pk}/traceback").json()
        chiefs = {c["name"]: c["phone"] for b in traced["buildings"] for c in b["chiefs"]}
        posts = {
            p["person"]["name"]: p["person"]["phone"]
            for p in api.get("/api/v1/people/posts", {"limit": 500}).json()["items"]
        }
        assert chiefs["楼长甲"] == posts["楼长甲"] == "13611110001", role
        if role != "building":  # a grid's reserve is above a building chief's view
            assert posts["机动乙"] == "136****0002", role
    assert chief.ended_on is None and reserve.ended_on is None
