"""The dashboard's buildings by control level (issue 17 §4): each building of the login's part
of the tree coloured by its strictest level — on itself, one of its units, its grid or its
community — grouped by grid, with counts; a grid chief sees only their grid's buildings."""

from bastion.incidents import services as incidents
from bastion.reports import queries


def _levels(board) -> dict[str, str | None]:
    return {b["name"]: b["level"] for g in board["grids"] for b in g["buildings"]}


def test_each_building_takes_the_strictest_level_over_or_inside_it(tree):
    admin = tree.users["admin"]
    incidents.control_set(
        actor=admin, node=tree.units[1], level="sealed", reason="单元内阳性"
    )  # a unit of building 111: the building shows sealed
    incidents.control_set(actor=admin, node=tree.grids[0], level="controlled", reason="同网格")
    incidents.control_set(
        actor=admin, node=tree.communities[1], level="precaution", reason="邻近社区"
    )
    board = queries.control_board(admin, tree.street)
    assert _levels(board) == {
        "111号楼": "sealed",
        "112号楼": "controlled",
        "121号楼": None,
        "122号楼": None,
        "211号楼": "precaution",
        "212号楼": "precaution",
        "221号楼": "precaution",
        "222号楼": "precaution",
    }
    assert [(lv["key"], lv["buildings"]) for lv in board["levels"]] == [
        ("sealed", 1), ("controlled", 1), ("precaution", 4)
    ]  # fmt: skip
    assert board["plain"] == 2
    assert [(g["community"], g["name"], g["counts"]) for g in board["grids"]][:2] == [
        ("社区1", "网格1-1", [1, 1, 0]),
        ("社区1", "网格1-2", [0, 0, 0]),
    ]


def test_a_grid_chief_sees_only_their_grid(tree):
    incidents.control_set(
        actor=tree.users["admin"], node=tree.buildings[2], level="sealed", reason="阳性"
    )
    board = queries.control_board(tree.users["grid"], tree.street)
    assert _levels(board) == {"111号楼": None, "112号楼": None}


def test_the_dashboard_page_shows_the_board(client, tree):
    incidents.control_set(
        actor=tree.users["admin"], node=tree.buildings[0], level="sealed", reason="阳性"
    )
    client.force_login(tree.users["community"])
    page = client.get(f"/reports/{tree.communities[0].pk}/").content.decode()
    assert 'id="control-board"' in page
    assert f'data-building="{tree.buildings[0].pk}" data-level="sealed"' in page
