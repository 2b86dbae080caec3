"""The people pages: vacancy report, posts, assigning and ending, reveal, building notice."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bastion.accounts.models import RevealLog
from bastion.core.history import history_of
from bastion.core.models import ChangeLog
from bastion.geo import services as geo
from bastion.geo.models import Household, Resident
from bastion.people import services
from bastion.people.conftest import person_at
from bastion.people.models import Post


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def url(name, *args, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse(name, args=args) + (f"?{query}" if query else "")


def test_vacancy_page_shows_the_counts_of_the_users_root(tree, staffed):
    response = client_for(tree.users["street"]).get(url("people:vacancies"))
    assert response.status_code == 200
    assert response.context["node"] == tree.street
    figures = {
        r["level"].level: (r["level"].expected, r["level"].held, r["level"].vacant)
        for r in response.context["levels"]
    }
    assert figures == {
        "street": (1, 1, 0),
        "grid": (4, 1, 3),
        "building": (8, 2, 6),
        "unit": (16, 3, 13),
    }
    html = response.content.decode()
    assert "社区2 › 网格2-2 › 222号楼 › 2单元" in html
    assert reverse("geo:node", args=[tree.units[15].pk]) in html
    assert f"{reverse('people:post_assign')}?node={tree.units[15].pk}&amp;role=unit_chief" in html


def test_vacancy_page_of_a_node_below(tree, staffed):
    client = client_for(tree.users["street"])
    response = client.get(url("people:vacancies", node=tree.grids[0].pk))
    figures = [(r["level"].level, r["level"].vacant) for r in response.context["levels"]]
    assert figures == [("grid", 0), ("building", 0), ("unit", 1)]
    assert response.context["zones_shown"] is False


def test_volunteer_sees_vacancies_but_no_assign_links(tree, staffed):
    response = client_for(tree.users["volunteer"]).get(url("people:vacancies"))
    assert response.status_code == 200
    assert reverse("people:post_assign") not in response.content.decode()


def test_posts_page_masks_numbers_and_offers_reveal_by_role(tree, staffed):
    reserve = reserve_post(tree)
    grid_chief = client_for(tree.users["grid"]).get(url("people:posts"))
    html = grid_chief.content.decode()
    assert grid_chief.context["page"].paginator.count == 7  # all but the street chief's post
    # A chief's number is on the building notice, so shown as it is there, with no reveal.
    assert "13900000003" in html
    chief_reveal = reverse(
        "people:person_reveal", args=[staffed.building_chiefs[0].person_id, "phone"]
    )
    assert chief_reveal not in html
    assert "137****0099" in html and "13700000099" not in html
    assert reverse("people:person_reveal", args=[reserve.person_id, "phone"]) in html
    volunteer = client_for(tree.users["volunteer"]).get(url("people:posts")).content.decode()
    assert "13900000003" in volunteer and "137****0099" in volunteer
    assert "/reveal/" not in volunteer and "/end/" not in volunteer


def reserve_post(tree):
    """A reserve post in the first grid: not on the building notice, so its number is masked."""
    home = Household.objects.filter(unit=tree.units[0]).order_by("pk").first()
    person = services.person_create(name="机动丁", kind="cadre", phone="13700000099", home=home)
    return services.post_assign(
        person=person, role="reserve", node=tree.grids[0], actor=tree.users["admin"]
    )


def test_posts_page_filters_by_role(tree, staffed):
    response = client_for(tree.users["street"]).get(url("people:posts", role="unit_chief"))
    assert [row["post"].role for row in response.context["rows"]] == ["unit_chief"] * 3


def test_reveal_returns_the_number_and_logs_it(tree, staffed):
    person = staffed.unit_chiefs[0].person
    response = client_for(tree.users["grid"]).post(
        url("people:person_reveal", person.pk, "phone"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "13900000005" in response.content.decode()
    [log] = RevealLog.objects.all()
    assert (log.user, log.subject_id, log.field) == (tree.users["grid"], person.pk, "phone")


def test_reveal_without_htmx_shows_the_number_as_a_message(tree, staffed):
    person = staffed.unit_chiefs[0].person
    back = url("people:posts", node=tree.units[0].pk)
    response = client_for(tree.users["grid"]).post(
        url("people:person_reveal", person.pk, "phone"), {"next": back}, follow=True
    )
    assert response.redirect_chain == [(back, 302)]
    assert [str(m) for m in response.context["messages"]] == ["单元长戊: 13900000005"]
    assert RevealLog.objects.count() == 1


def test_reveal_refused_to_a_role_without_it(tree, staffed):
    person = staffed.unit_chiefs[0].person
    response = client_for(tree.users["volunteer"]).post(
        url("people:person_reveal", person.pk, "phone")
    )
    assert response.status_code == 404
    assert not RevealLog.objects.exists()


def test_assign_a_vacant_post(tree, staffed):
    person = person_at(tree.units[3], "新单元长", "13900000040")
    response = client_for(tree.users["grid"]).post(
        url("people:post_assign", node=tree.units[3].pk),
        {"person": person.pk, "role": "unit_chief", "started_on": "2024-03-01"},
    )
    assert response.status_code == 302
    post = Post.objects.get(node=tree.units[3], ended_on__isnull=True)
    assert (post.person, post.role, str(post.started_on)) == (person, "unit_chief", "2024-03-01")
    [entry] = history_of(post)
    assert (entry.action, entry.actor) == ("create", tree.users["grid"])


def test_assign_a_held_post_is_refused_naming_field_and_holder(tree, staffed):
    person = person_at(tree.units[0], "新人", "13900000041")
    posts, changes = Post.objects.count(), ChangeLog.objects.count()
    response = client_for(tree.users["grid"]).post(
        url("people:post_assign", node=tree.units[0].pk),
        {"person": person.pk, "role": "unit_chief", "started_on": "2024-03-01"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"role": ["This post is already held by 单元长戊."]}
    assert "This post is already held by 单元长戊." in response.content.decode()
    assert (Post.objects.count(), ChangeLog.objects.count()) == (posts, changes)


def test_assign_form_searches_persons_in_scope(tree, staffed):
    client = client_for(tree.users["grid"])
    page = client.get(url("people:post_assign", node=tree.units[3].pk, q="楼长"))
    assert {p.name for p in page.context["persons"]} == {"楼长丙", "楼长丁"}
    fragment = client.get(url("people:person_search", q="0004")).content.decode()
    assert "楼长丁" in fragment and "139****0004" in fragment and "13900000004" not in fragment
    other = client_for(tree.users["other_grid"]).get(url("people:person_search", q="楼长"))
    assert "楼长" not in other.content.decode()


def test_assign_a_zone_commander(tree, staffed):
    zone = geo.zone_create(
        street=tree.street, name="一区", kind="joint", buildings=tree.buildings[:2]
    )
    person = person_at(tree.units[0], "指挥长", "13900000042")
    client = client_for(tree.users["street"])
    missing_zone = client.post(
        url("people:post_assign", node=tree.street.pk),
        {"person": person.pk, "role": "zone_commander", "started_on": "2024-03-01"},
    )
    assert list(missing_zone.context["form"].errors) == ["zone"]
    done = client.post(
        url("people:post_assign", node=tree.street.pk),
        {
            "person": person.pk,
            "role": "zone_commander",
            "zone": zone.pk,
            "started_on": "2024-03-01",
        },
    )
    assert done.status_code == 302
    assert Post.objects.get(role="zone_commander").zone == zone


def test_end_a_post_then_assign_again(tree, staffed):
    client = client_for(tree.users["grid"])
    old = staffed.unit_chiefs[0]
    response = client.post(url("people:post_end", old.pk))
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.ended_on is not None
    again = client.post(
        url("people:post_assign", node=tree.units[0].pk),
        {"person": old.person_id, "role": "unit_chief", "started_on": str(old.ended_on)},
    )
    assert again.status_code == 302
    actions = ChangeLog.objects.filter(object_type="people.post", actor=tree.users["grid"])
    assert sorted(actions.values_list("action", flat=True)) == ["create", "update"]
    # Ending it twice is refused with the reason, not an error page.
    assert client.post(url("people:post_end", old.pk), follow=True).status_code == 200


def test_building_notice_names_chiefs_with_full_numbers(tree, staffed):
    zone = geo.zone_create(
        street=tree.street, name="一区", kind="joint", buildings=tree.buildings[:2]
    )
    deputy = person_at(tree.units[0], "副指挥长", "13900000043")
    services.post_assign(person=deputy, role="deputy_commander", node=tree.street, zone=zone)
    response = client_for(tree.users["volunteer"]).get(
        url("people:building_notice", tree.buildings[1].pk)
    )
    assert response.status_code == 200
    html = response.content.decode()
    for name, phone in [
        ("街长甲", "13900000001"),
        ("网格长乙", "13900000002"),
        ("楼长丁", "13900000004"),
        ("单元长庚", "13900000007"),
    ]:
        assert name in html and f"tel:{phone}" in html
    # The unit chief of units[3] and the zone commander are missing; the deputy is named,
    # but only chiefs' numbers are printed.
    assert html.count('class="vacant"') == 2
    assert ">vacant<" in html
    assert "副指挥长" in html and "13900000043" not in html
    assert "@page { size: A4;" in html and "@media print" in html
    assert "window.print()" in html


def test_building_notice_only_for_buildings(tree, staffed):
    response = client_for(tree.users["street"]).get(url("people:building_notice", tree.grids[0].pk))
    assert response.status_code == 404


def test_pages_need_a_login(tree, client):
    response = client.get(url("people:vacancies"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_login_without_roles_finds_no_report(tree):
    assert client_for(tree.users["nobody"]).get(url("people:vacancies")).status_code == 404


# --- Scope: a grid chief gets nothing of another grid (one parametrised test per URL). ---


@pytest.fixture
def elsewhere(tree, staffed):
    """Rows of the second grid, which the "grid" login (first grid) may not see."""
    person = person_at(tree.units[4], "别处楼长", "13900000030")
    post = services.post_assign(person=person, role="building_chief", node=tree.buildings[2])
    return {
        "grid": tree.grids[1],
        "building": tree.buildings[2],
        "unit": tree.units[4],
        "post": post,
        "person": person,
    }


OUT_OF_SCOPE = [
    ("get", lambda e: url("people:vacancies", node=e["grid"].pk)),
    ("get", lambda e: url("people:posts", node=e["grid"].pk)),
    ("get", lambda e: url("people:building_notice", e["building"].pk)),
    ("get", lambda e: url("people:post_assign", node=e["unit"].pk)),
    ("post", lambda e: url("people:post_assign", node=e["unit"].pk)),
    ("post", lambda e: url("people:post_end", e["post"].pk)),
    ("post", lambda e: url("people:person_reveal", e["person"].pk, "phone")),
]


@pytest.mark.parametrize(("method", "make_url"), OUT_OF_SCOPE)
def test_grid_chief_gets_nothing_of_another_grid(tree, elsewhere, method, make_url):
    client = client_for(tree.users["grid"])
    posts, changes = Post.objects.count(), ChangeLog.objects.count()
    data = {"person": elsewhere["person"].pk, "role": "unit_chief", "started_on": "2024-03-01"}
    response = getattr(client, method)(make_url(elsewhere), data if method == "post" else None)
    assert response.status_code == 404
    assert (Post.objects.count(), ChangeLog.objects.count()) == (posts, changes)
    assert Post.objects.get(pk=elsewhere["post"].pk).ended_on is None
    assert not RevealLog.objects.exists()


def test_other_grids_persons_cannot_be_put_on_own_grid(tree, elsewhere):
    response = client_for(tree.users["grid"]).post(
        url("people:post_assign", node=tree.units[3].pk),
        {"person": elsewhere["person"].pk, "role": "unit_chief", "started_on": "2024-03-01"},
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["person"]
    assert not Post.objects.filter(node=tree.units[3]).exists()


def test_page_queries_do_not_grow_with_rows(tree, staffed):
    """The list pages read in a fixed number of queries, however many rows they show."""
    client = client_for(tree.users["street"])
    pages = [
        url("people:posts"),
        url("people:vacancies"),
        url("people:building_notice", tree.buildings[0].pk),
    ]

    def counts():
        result = []
        for page in pages:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(page).status_code == 200
            result.append(len(ctx.captured_queries))
        return result

    zone = geo.zone_create(
        street=tree.street, name="一区", kind="joint", buildings=tree.buildings[:2]
    )
    before = counts()
    for i, unit in enumerate(tree.units[3:12]):
        services.post_assign(
            person=person_at(unit, f"新{i}", f"139000001{i:02d}"), role="unit_chief", node=unit
        )
    for i in range(3):
        services.post_assign(
            person=person_at(tree.units[0], f"副{i}", f"139000002{i:02d}"),
            role="deputy_commander",
            node=tree.street,
            zone=zone,
        )
    assert counts() == before


def test_admin_sees_post_changes_with_numbers_masked(tree):
    """The accounts change page, read for posts (moved here: accounts sits below people)."""
    admin = tree.users["admin"]
    person = person_at(tree.units[0], "楼长丙", "13900000003")
    post = services.post_assign(
        person=person, role="building_chief", node=tree.buildings[0], actor=tree.users["grid"]
    )
    services.post_end(post=post, actor=admin)
    client = client_for(admin)
    response = client.get(reverse("accounts:changes"), {"object_type": "people.post"})
    entries = [row.entry for row in response.context["entries"]]
    assert [(e.action, e.actor) for e in entries] == [
        ("update", admin),
        ("create", tree.users["grid"]),
    ]
    html = response.content.decode()
    assert "Ended on" in html and "Building chief" in html and "楼长丙" in html
    residents = client.get(reverse("accounts:changes"), {"object_type": "geo.resident"})
    html = residents.content.decode()
    assert len(residents.context["entries"]) == 50 and residents.context["has_next"]
    assert "138****" in html
    phone = Resident.objects.get(name="居民1").phone
    assert phone not in html  # numbers stay masked in the history


def test_change_page_queries_do_not_grow_with_post_entries(tree):
    client = client_for(tree.users["admin"])

    def count(**params):
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("accounts:changes"), {"object_type": "people.post", **params})
        return len(ctx.captured_queries)

    person = person_at(tree.units[0], "楼长丙", "13900000003")
    services.post_assign(person=person, role="building_chief", node=tree.buildings[0])
    one = count()
    for i, unit in enumerate(tree.units[:10]):
        services.post_assign(
            person=person_at(unit, f"单元长{i}", f"139000001{i:02d}"), role="unit_chief", node=unit
        )
    assert count() == one
