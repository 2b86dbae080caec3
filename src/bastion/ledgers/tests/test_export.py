"""Exports of residents and posts: scope, exact rows, masking, reveal logging, languages."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from python_calamine import CalamineWorkbook

from bastion.accounts.models import RevealLog
from bastion.accounts.services import role_assign
from bastion.accounts.testing import login
from bastion.core import scope
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Resident
from bastion.ledgers import queries, services
from bastion.people.services import person_create, post_assign

GRID_RESIDENTS = 32  # a grid of the small tree: 2 buildings × 2 units × 4 households × 2


def read(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def export(user, node, *, what="residents", **kw) -> list[list]:
    out = io.BytesIO()
    fn = services.residents_export if what == "residents" else services.posts_export
    fn(user=user, node=node, out=out, **kw)
    return read(out.getvalue())


def test_a_subtree_export_holds_exactly_its_residents_masked(tree, chinese_default):
    rows = export(tree.users["street"], tree.grids[0])
    header, body = rows[0], rows[1:]
    assert header[:4] == ["姓名", "身份证号", "手机号", "与户主关系"]
    expected = Resident.objects.filter(grid_id=tree.grids[0].pk)
    assert len(body) == expected.count() == GRID_RESIDENTS
    assert {r[0] for r in body} == set(expected.values_list("name", flat=True))
    first = expected.order_by("unit__path", "household__floor", "household__room", "id").first()
    assert body[0][:11] == [
        first.name,
        mask_id_number(first.id_number),
        mask_mobile(first.phone),
        "户主",
        "社区1",
        "网格1-1",
        "111号楼",
        "1单元",
        "101",
        1.0,
        "在家",
    ]
    assert not RevealLog.objects.exists()


def test_reveal_shows_full_numbers_and_logs_one_row_per_resident(tree):
    user = tree.users["grid"]
    rows = export(user, tree.grids[0], reveal=True)[1:]
    full = set(
        Resident.objects.filter(grid_id=tree.grids[0].pk).values_list("id_number", flat=True)
    )
    assert {r[1] for r in rows} == full
    logs = RevealLog.objects.filter(user=user, via="export")
    assert logs.count() == GRID_RESIDENTS
    assert set(logs.values_list("subject_type", "field").distinct()) == {
        ("resident", "id_number,phone")
    }


@pytest.mark.parametrize("who", ["volunteer", "building"])
def test_roles_that_may_not_reveal_are_refused_and_nothing_logged(tree, who):
    node = tree.grids[0] if who == "volunteer" else tree.buildings[0]
    with pytest.raises(PermissionDenied):
        export(tree.users[who], node, reveal=True)
    assert not RevealLog.objects.exists()
    rows = export(tree.users[who], node)[1:]
    assert rows and all("*" in r[1] for r in rows)


def test_reveal_only_where_the_role_allows_it(tree):
    """A volunteer across a community who is grid chief of one of its grids sees full numbers
    for that grid only."""
    user = login("mixed", "volunteer", tree.communities[0])
    role_assign(user=user, role="grid_chief", node=tree.grids[0])
    rows = export(user, tree.communities[0], reveal=True)[1:]
    assert len(rows) == 2 * GRID_RESIDENTS
    revealed = [r for r in rows if "*" not in r[1]]
    assert len(revealed) == GRID_RESIDENTS and {r[5] for r in revealed} == {"网格1-1"}
    assert RevealLog.objects.filter(user=user).count() == GRID_RESIDENTS


def test_grid_chief_cannot_reach_another_grid_or_the_street(tree):
    user = tree.users["grid"]
    for node in (tree.grids[1], tree.street, tree.communities[1]):
        with pytest.raises(Http404):
            queries.node_for(user=user, node_id=node.pk, action=scope.VIEW)
    # even handed a node directly, the rows are narrowed by the scope function
    assert export(user, tree.grids[1]) == [export(user, tree.grids[0])[0]]


def test_english_headers_and_values(tree, english):
    rows = export(tree.users["street"], tree.buildings[0])
    assert rows[0][:5] == ["Name", "ID number", "Mobile", "Relation to head", "Community"]
    assert rows[1][3] == "Head of household" and rows[1][10] == "At home"
    assert len(rows) == 1 + 16


def test_export_reimports_as_a_template(tree):
    """The export's headers are the import's, so an exported file passes the header check."""
    rows = export(tree.users["street"], tree.grids[0])
    from bastion.ledgers.services import _columns_find

    _positions, problems = _columns_find([str(h) for h in rows[0]], 1)
    assert problems == []


@pytest.fixture
def posts(tree):
    made = []
    for i, (role, node) in enumerate(
        [
            ("street_chief", tree.street),
            ("grid_chief", tree.grids[0]),
            ("building_chief", tree.buildings[0]),
            ("grid_chief", tree.grids[1]),
            ("grid_chief", tree.grids[2]),
            ("reserve", tree.grids[0]),
        ]
    ):
        person = person_create(name=f"干部{i}", kind="cadre", phone=f"1370000000{i}", node=node)
        made.append(post_assign(person=person, role=role, node=node))
    return made


def test_posts_export_of_a_subtree(tree, posts, chinese_default):
    rows = export(tree.users["street"], tree.communities[0], what="posts")
    assert rows[0] == ["姓名", "职务", "职务说明", "所在位置", "指挥区", "手机号", "任职日期"]
    body = rows[1:]
    assert [r[0] for r in body] == ["干部1", "干部5", "干部2", "干部3"]
    assert body[2][3] == "社区1 › 网格1-1 › 111号楼"
    # A chief's number is on the building notice (people.models.post_phone); others masked.
    assert [r[5] for r in body] == ["13700000001", "137****0005", "13700000002", "13700000003"]
    rows = export(tree.users["street"], tree.street, what="posts", reveal=True)
    assert len(rows) == 1 + 6 and rows[1][5] == "13700000000"
    # Only the number that was not public is logged as revealed.
    assert list(
        RevealLog.objects.filter(subject_type="person", via="export").values_list(
            "subject_name", flat=True
        )
    ) == ["干部5"]


def test_posts_export_is_scoped(tree, posts):
    rows = export(tree.users["grid"], tree.grids[0], what="posts")
    assert [r[0] for r in rows[1:]] == ["干部1", "干部5", "干部2"]


def test_text_that_looks_like_a_formula_stays_text(tree):
    resident = Resident.objects.filter(grid_id=tree.grids[0].pk).order_by("id").first()
    Resident.objects.filter(pk=resident.pk).update(name='=HYPERLINK("http://x","y")')
    rows = export(tree.users["street"], tree.grids[0])
    assert '=HYPERLINK("http://x","y")' in [r[0] for r in rows[1:]]
