"""The geo pages over the small known tree: exact figures, scope (404 outside the subtree),
masked numbers and logged reveals, and the resident edit."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bastion.core.models import ChangeLog
from bastion.geo import services
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Household, Resident


def login(client, tree, who: str):
    client.force_login(tree.users[who])
    return client


def aged(**where) -> int:
    return sum(r.aged for r in Resident.objects.filter(**where))


def first_resident(tree, grid: int = 0) -> Resident:
    return Resident.objects.filter(grid=tree.grids[grid]).order_by("id").first()


# --- Every page needs a login --------------------------------------------------------------


def test_every_page_sends_anonymous_visitors_to_login(client, tree, reveal_log):
    resident = first_resident(tree)
    urls = [
        reverse("web:home"),
        reverse("geo:node", args=[tree.street.pk]),
        reverse("geo:building", args=[tree.buildings[0].pk]),
        reverse("geo:household", args=[resident.household_id]),
        reverse("geo:resident", args=[resident.pk]),
        reverse("geo:resident_edit", args=[resident.pk]),
        reverse("geo:search") + "?q=1",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    response = client.post(reverse("geo:resident_reveal", args=[resident.pk, "phone"]))
    assert response.status_code == 302
    assert not reveal_log.objects.exists()


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'type="submit"' in response.content


# --- Home and the tree browser -------------------------------------------------------------


def test_home_lists_the_users_area_with_its_figures(client, tree):
    response = login(client, tree, "grid").get(reverse("web:home"))
    assert response.status_code == 200
    [(node, counts, roles)] = response.context["roots"]
    assert node == tree.grids[0]
    assert counts["households"] == 16
    assert counts["residents"] == 32
    assert counts["aged"] == aged(grid=tree.grids[0])
    assert [str(r) for r in roles] == ["Grid chief"]
    # With a single area its buildings are listed at once.
    assert [n.name for n, _c in response.context["children"]] == ["111号楼", "112号楼"]
    assert 'id="resident-q"' in response.text


def test_home_without_a_role_says_so(client, tree):
    response = login(client, tree, "nobody").get(reverse("web:home"))
    assert response.status_code == 200
    assert response.context["roots"] == []
    assert "No area is assigned" in response.text


def test_street_page_has_exact_figures_children_and_lower_levels(
    client, tree, django_assert_max_num_queries
):
    services.resident_update(resident=first_resident(tree), immobile=True, chronic_illness=True)
    login(client, tree, "street")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("geo:node", args=[tree.street.pk]))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["households"] == 64
    assert counts["residents"] == 128
    assert counts["aged"] == aged(street=tree.street)
    assert counts["immobile"] == 1
    assert counts["chronic_illness"] == 1
    assert counts["pregnant"] == 0
    children = response.context["children"]
    assert [n.name for n, _c in children] == ["社区1", "社区2"]
    assert [c["households"] for _n, c in children] == [32, 32]
    assert [c["residents"] for _n, c in children] == [64, 64]
    assert [c["immobile"] for _n, c in children] == [1, 0]
    assert [c["aged"] for _n, c in children] == [aged(community=c) for c in tree.communities]
    below = {level: n for level, _label, n in response.context["below"]}
    assert below == {"community": 2, "grid": 4, "building": 8, "unit": 16}
    # The street commander's breadcrumb starts at the street: the city is not theirs to see.
    assert response.context["crumbs"] == []
    assert "测试市" not in response.text


def test_child_table_costs_the_same_queries_however_many_children(client, tree):
    """One grouped query per table, never one per child."""
    url = reverse("geo:node", args=[tree.communities[0].pk])
    login(client, tree, "street")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as two_children:
        client.get(url)
    for _ in range(3):
        services.node_create(parent=tree.communities[0], name="新网格")
    with CaptureQueriesContext(connection) as five_children:
        response = client.get(url)
    assert len(five_children) == len(two_children)
    assert len(response.context["children"]) == 5


def test_grid_page_shows_buildings_and_breadcrumb_in_scope(client, tree):
    response = login(client, tree, "community").get(reverse("geo:node", args=[tree.grids[0].pk]))
    assert response.status_code == 200
    assert response.context["crumbs"] == [tree.communities[0]]
    rows = response.context["children"]
    assert [n.name for n, _c in rows] == ["111号楼", "112号楼"]
    assert [c["households"] for _n, c in rows] == [8, 8]
    assert [c["residents"] for _n, c in rows] == [16, 16]
    # A building in the table links to the building view.
    assert reverse("geo:building", args=[tree.buildings[0].pk]) in response.text


def test_unit_page_lists_its_households(client, tree):
    unit = tree.units[0]
    response = login(client, tree, "grid").get(reverse("geo:node", args=[unit.pk]))
    assert response.status_code == 200
    assert response.context["counts"]["households"] == 4
    assert response.context["counts"]["residents"] == 8
    households = response.context["households"]
    assert [h.room for h in households] == ["101", "102", "201", "202"]
    assert [h.n_residents for h in households] == [2, 2, 2, 2]
    for h in households:
        assert reverse("geo:household", args=[h.pk]) in response.text


def test_building_node_page_redirects_to_the_building_view(client, tree):
    building = tree.buildings[0]
    response = login(client, tree, "grid").get(reverse("geo:node", args=[building.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("geo:building", args=[building.pk])


def test_building_view_draws_units_floors_and_rooms(client, tree):
    building = tree.buildings[0]
    services.resident_update(
        resident=Resident.objects.filter(building=building).first(), immobile=True
    )
    response = login(client, tree, "building").get(reverse("geo:building", args=[building.pk]))
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [u.name for u in plan.units] == ["1单元", "2单元"]
    assert [floor for floor, _cells in plan.rows] == [2, 1]  # top floor first
    top_floor = plan.rows[0][1]
    assert [[h.room for h in cell] for cell in top_floor] == [["201", "202"], ["201", "202"]]
    assert all(h.n_residents == 2 for _f, cells in plan.rows for cell in cells for h in cell)
    assert plan.households == 8
    assert plan.marks["immobile"] == 1
    assert response.context["counts"]["residents"] == 16
    assert response.text.count('class="room m-') == 8
    for household in Household.objects.filter(building=building):
        assert reverse("geo:household", args=[household.pk]) in response.text


def test_building_view_of_another_level_redirects_to_its_node_page(client, tree):
    grid = tree.grids[0]
    response = login(client, tree, "grid").get(reverse("geo:building", args=[grid.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("geo:node", args=[grid.pk])


def test_household_page_lists_residents_masked(client, tree):
    household = Household.objects.filter(unit=tree.units[0]).order_by("room").first()
    response = login(client, tree, "grid").get(reverse("geo:household", args=[household.pk]))
    assert response.status_code == 200
    residents = list(response.context["residents"])
    assert len(residents) == 2
    assert residents[0].relation == "head"
    for r in residents:
        assert r.name in response.text
        assert mask_id_number(r.id_number) in response.text
        assert r.id_number not in response.text
        assert r.phone not in response.text
    assert response.context["crumbs"][-1] == tree.units[0]


# --- Scope: another grid's rows are as absent as missing ones --------------------------------


def _other_grid_urls(tree) -> dict[str, str]:
    grid = tree.grids[0]
    building = tree.buildings[0]
    unit = tree.units[0]
    resident = first_resident(tree)
    return {
        "grid": reverse("geo:node", args=[grid.pk]),
        "building node": reverse("geo:node", args=[building.pk]),
        "building": reverse("geo:building", args=[building.pk]),
        "unit": reverse("geo:node", args=[unit.pk]),
        "household": reverse("geo:household", args=[resident.household_id]),
        "resident": reverse("geo:resident", args=[resident.pk]),
        "resident edit": reverse("geo:resident_edit", args=[resident.pk]),
        "missing node": reverse("geo:node", args=[999999]),
    }


def test_grid_chief_gets_404_for_every_page_of_another_grid(client, tree, reveal_log):
    login(client, tree, "other_grid")
    for name, url in _other_grid_urls(tree).items():
        assert client.get(url).status_code == 404, name
    resident = first_resident(tree)
    for field in ("id_number", "phone"):
        url = reverse("geo:resident_reveal", args=[resident.pk, field])
        assert client.post(url).status_code == 404
    response = client.post(
        reverse("geo:resident_edit", args=[resident.pk]),
        {"name": "改名", "relation": "head", "presence": "home"},
    )
    assert response.status_code == 404
    assert not reveal_log.objects.exists()
    assert Resident.objects.get(pk=resident.pk).name == resident.name


def test_the_same_pages_open_for_the_grid_chief_in_scope(client, tree):
    login(client, tree, "grid")
    for name, url in _other_grid_urls(tree).items():
        expected = {"missing node": 404, "building node": 302}.get(name, 200)
        assert client.get(url).status_code == expected, name


def test_search_finds_only_residents_in_scope(client, tree):
    mine = first_resident(tree, grid=0)
    theirs = first_resident(tree, grid=1)
    login(client, tree, "grid")
    response = client.get(reverse("geo:search"), {"q": theirs.name})
    assert response.context["results"] == []
    response = client.get(reverse("geo:search"), {"q": theirs.phone[-6:]})
    assert theirs not in response.context["results"]
    response = client.get(reverse("geo:search"), {"q": mine.phone[-8:]})
    assert response.context["results"] == [mine]


# --- Search ---------------------------------------------------------------------------------


def test_search_as_you_type_returns_the_results_fragment(client, tree):
    resident = first_resident(tree)
    login(client, tree, "grid")
    response = client.get(
        reverse("geo:search"), {"q": resident.id_number[-4:]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert resident in response.context["results"]
    assert mask_id_number(resident.id_number) in response.text
    assert mask_mobile(resident.phone) in response.text
    assert resident.id_number not in response.text
    assert resident.phone not in response.text
    full = client.get(reverse("geo:search"), {"q": "居民"})
    assert "<html" in full.text
    assert len(full.context["results"]) == 32
    assert not full.context["more"]


# --- Resident page, reveal, edit --------------------------------------------------------------


def test_resident_page_masks_numbers_and_offers_reveal_to_a_grid_chief(client, tree):
    resident = first_resident(tree)
    response = login(client, tree, "grid").get(reverse("geo:resident", args=[resident.pk]))
    assert response.status_code == 200
    assert mask_id_number(resident.id_number) in response.text
    assert mask_mobile(resident.phone) in response.text
    assert resident.id_number not in response.text
    assert resident.phone not in response.text
    for field in ("id_number", "phone"):
        assert reverse("geo:resident_reveal", args=[resident.pk, field]) in response.text
    assert reverse("geo:resident_edit", args=[resident.pk]) in response.text


def test_a_field_a_resident_does_not_have_is_not_found(client, tree, reveal_log):
    resident = first_resident(tree)
    login(client, tree, "grid")
    for field in ("name", "to_phone"):  # not revealable; a hand-over's, not a resident's
        url = reverse("geo:resident_reveal", args=[resident.pk, field])
        assert client.post(url).status_code == 404
    assert not reveal_log.objects.exists()


def test_grid_chief_reveals_a_number_and_the_reveal_is_logged(client, tree, reveal_log):
    resident = first_resident(tree)
    login(client, tree, "grid")
    url = reverse("geo:resident_reveal", args=[resident.pk, "id_number"])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert resident.id_number in response.text
    assert "<html" not in response.text
    log = reveal_log.objects.get()
    assert (log.user, log.subject_type, log.subject_id, log.field, log.via) == (
        tree.users["grid"],
        "resident",
        resident.pk,
        "id_number",
        "web",
    )
    # Without htmx the whole page comes back with the number shown.
    response = client.post(reverse("geo:resident_reveal", args=[resident.pk, "phone"]))
    assert response.status_code == 200
    assert f"tel:{resident.phone}" in response.text
    assert reveal_log.objects.count() == 2


def test_reveal_needs_post_and_a_revealable_field(client, tree, reveal_log):
    resident = first_resident(tree)
    login(client, tree, "grid")
    assert (
        client.get(reverse("geo:resident_reveal", args=[resident.pk, "phone"])).status_code == 405
    )
    assert (
        client.post(reverse("geo:resident_reveal", args=[resident.pk, "name"])).status_code == 404
    )
    assert not reveal_log.objects.exists()


def test_building_chief_sees_no_reveal_button_and_is_refused(client, tree, reveal_log):
    resident = Resident.objects.filter(building=tree.buildings[0]).first()
    login(client, tree, "building")
    response = client.get(reverse("geo:resident", args=[resident.pk]))
    assert response.status_code == 200
    assert "/reveal/" not in response.text
    assert resident.id_number not in response.text
    for field in ("id_number", "phone"):
        url = reverse("geo:resident_reveal", args=[resident.pk, field])
        assert client.post(url, headers={"HX-Request": "true"}).status_code in (403, 404)
    assert not reveal_log.objects.exists()


def test_volunteer_sees_the_resident_but_may_not_edit(client, tree):
    resident = first_resident(tree)
    login(client, tree, "volunteer")
    response = client.get(reverse("geo:resident", args=[resident.pk]))
    assert response.status_code == 200
    assert reverse("geo:resident_edit", args=[resident.pk]) not in response.text
    assert client.get(reverse("geo:resident_edit", args=[resident.pk])).status_code == 404


def _edit_data(resident: Resident, **changes) -> dict:
    data = {
        "name": resident.name,
        "relation": resident.relation,
        "presence": resident.presence,
        "id_number": "",
        "phone": "",
    }
    data |= {
        f: "on"
        for f in ("immobile", "disabled", "chronic_illness", "pregnant", "infant")
        if getattr(resident, f)
    }
    return data | changes


def test_edit_form_never_shows_the_full_numbers(client, tree):
    resident = first_resident(tree)
    response = login(client, tree, "building").get(reverse("geo:resident_edit", args=[resident.pk]))
    assert response.status_code == 200
    assert resident.id_number not in response.text
    assert resident.phone not in response.text
    assert mask_id_number(resident.id_number) in response.text


def test_edit_refuses_a_bad_id_number_naming_the_field_and_changes_nothing(client, tree):
    resident = first_resident(tree)
    before = Resident.objects.values().get(pk=resident.pk)
    logged = ChangeLog.objects.count()
    bad = resident.id_number[:17] + ("0" if resident.id_number[17] != "0" else "1")
    response = login(client, tree, "grid").post(
        reverse("geo:resident_edit", args=[resident.pk]),
        _edit_data(resident, name="新名字", id_number=bad, presence="away"),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["id_number"]
    assert "checksum" in errors["id_number"][0]
    assert 'id="id_id_number_errors"' in response.text  # shown next to its input
    assert Resident.objects.values().get(pk=resident.pk) == before
    assert ChangeLog.objects.count() == logged


def test_edit_refuses_a_bad_mobile_and_an_empty_name(client, tree):
    resident = first_resident(tree)
    response = login(client, tree, "grid").post(
        reverse("geo:resident_edit", args=[resident.pk]),
        _edit_data(resident, name=" ", phone="12345"),
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "phone"}
    assert Resident.objects.get(pk=resident.pk).phone == resident.phone


def test_good_edit_saves_and_writes_history(client, tree):
    resident = first_resident(tree)
    login(client, tree, "grid")
    response = client.post(
        reverse("geo:resident_edit", args=[resident.pk]),
        _edit_data(resident, name="新名字", phone="13900001111", presence="away", immobile="on"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("geo:resident", args=[resident.pk])
    saved = Resident.objects.get(pk=resident.pk)
    assert (saved.name, saved.phone, saved.presence, saved.immobile) == (
        "新名字",
        "13900001111",
        "away",
        True,
    )
    assert saved.id_number == resident.id_number  # left empty: kept
    entry = ChangeLog.objects.filter(object_id=resident.pk, action="update").get()
    assert entry.actor == tree.users["grid"]
    assert set(entry.changes) == {"name", "phone", "presence", "immobile"}

    page = client.get(reverse("geo:resident", args=[resident.pk]))
    [latest, *_older] = page.context["history"]
    assert latest.actor == "grid"
    assert {c.label for c in latest.changes} == {"Name", "Mobile", "Presence", "Immobile"}
    shown = {c.label: (c.old, c.new) for c in latest.changes}
    assert shown["Presence"] == ("At home", "Away")
    assert shown["Immobile"] == ("no", "yes")
    # The history masks numbers like the rest of the page.
    assert shown["Mobile"] == (mask_mobile(resident.phone), mask_mobile("13900001111"))
    assert "13900001111" not in page.text
    assert resident.phone not in page.text


def test_every_page_renders_its_nav(client, tree):
    response = login(client, tree, "grid").get(reverse("web:home"))
    assert f'href="{reverse("geo:search")}"' in response.text
    assert 'aria-current="page"' in response.text
