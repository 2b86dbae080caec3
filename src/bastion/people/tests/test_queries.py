import datetime as dt

from bastion.geo import services as geo
from bastion.people import queries, services
from bastion.people.conftest import person_at


def figures(report):
    return {r.level: (r.expected, r.held, r.vacant) for r in report}


def test_vacancy_report_counts_the_street(tree, staffed):
    report = queries.vacancy_report(tree.users["street"], tree.street)
    assert figures(report) == {
        "street": (1, 1, 0),
        "grid": (4, 1, 3),
        "building": (8, 2, 6),
        "unit": (16, 3, 13),
    }
    vacant = {r.level: r.nodes for r in report}
    assert vacant["grid"] == tree.grids[1:]
    assert vacant["building"] == tree.buildings[2:]
    assert vacant["unit"] == tree.units[3:]


def test_vacancy_report_of_a_grid_starts_at_its_level(tree, staffed):
    report = queries.vacancy_report(tree.users["grid"], tree.grids[0])
    assert figures(report) == {"grid": (1, 1, 0), "building": (2, 2, 0), "unit": (4, 3, 1)}
    assert [r.nodes for r in report][-1] == [tree.units[3]]


def test_vacancy_report_lists_at_most_the_limit(tree, staffed):
    units = queries.vacancy_report(tree.users["street"], tree.street, limit=5)[-1]
    assert (units.vacant, len(units.nodes), units.not_listed) == (13, 5, 8)


def test_an_ended_post_is_vacant_again(tree, staffed):
    services.post_end(post=staffed.unit_chiefs[0])
    report = queries.vacancy_report(tree.users["street"], tree.street)
    assert figures(report)["unit"] == (16, 2, 14)


def test_zones_without_commander(tree, staffed):
    street_user = tree.users["street"]
    zone = geo.zone_create(
        street=tree.street, name="一区", kind="joint", buildings=tree.buildings[:2]
    )
    geo.zone_create(
        street=tree.street, name="二区", kind="independent", buildings=tree.buildings[2:3]
    )
    assert [z.name for z in queries.zones_without_commander(street_user, tree.street)] == [
        "一区",
        "二区",
    ]
    services.post_assign(
        person=person_at(tree.units[0], "指挥长", "13900000099"),
        role="zone_commander",
        node=tree.street,
        zone=zone,
    )
    assert [z.name for z in queries.zones_without_commander(street_user, tree.street)] == ["二区"]
    assert queries.zones_under(street_user, tree.street).count() == 2
    # Zones belong to a street: nothing to report below it.
    assert not queries.zones_under(tree.users["community"], tree.communities[0]).exists()


def test_place_paths_name_only_what_the_user_may_see(tree, staffed):
    posts = [staffed.street_chief, staffed.unit_chiefs[2]]
    assert queries.place_paths(tree.users["street"], posts) == {
        posts[0].pk: "测试街道",
        posts[1].pk: "社区1 › 网格1-1 › 112号楼 › 1单元",
    }
    unit_chief = staffed.unit_chiefs[2]
    assert queries.place_paths(tree.users["grid"], [unit_chief]) == {
        unit_chief.pk: "网格1-1 › 112号楼 › 1单元"
    }


def test_posts_under_a_node_in_role_order(tree, staffed):
    rows = queries.posts_under(tree.users["street"], tree.buildings[0])
    assert [(p.role, p.node_id) for p in rows] == [
        ("building_chief", tree.buildings[0].pk),
        ("unit_chief", tree.units[0].pk),
        ("unit_chief", tree.units[1].pk),
    ]
    assert queries.posts_under(tree.users["street"], tree.street, role="grid_chief").count() == 1
    assert [
        p.person.name for p in queries.posts_under(tree.users["street"], tree.street, text="楼长")
    ] == ["楼长丙", "楼长丁"]
    services.post_end(post=staffed.building_chiefs[0], ended_on=dt.date.today())
    assert queries.posts_under(tree.users["street"], tree.buildings[0]).count() == 2


def test_person_search_and_reveal_scope(tree, staffed):
    grid_user, other = tree.users["grid"], tree.users["other_grid"]
    assert {p.name for p in queries.person_search(grid_user, "楼长")} == {"楼长丙", "楼长丁"}
    assert [p.name for p in queries.person_search(grid_user, "0003")] == ["楼长丙"]
    assert not queries.person_search(other, "楼长").exists()
    ids = [staffed.street_chief.person_id, staffed.unit_chiefs[0].person_id]
    assert queries.revealable_person_ids(grid_user, ids) == set(ids)
    assert queries.revealable_person_ids(tree.users["volunteer"], ids) == set()
    assert queries.revealable_person_ids(other, ids) == set()
