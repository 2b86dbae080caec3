"""The dashboard reads a fixed number of GROUP BY queries, however many children, grids and
days there are (no query per node), and it narrows the daily rows by the login's scope."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bastion.geo import services as geo
from bastion.reports import queries, services
from bastion.reports.tests.conftest import DAY
from bastion.reports.tests.helpers import at


def dashboard_queries(user, node) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        queries.dashboard_data(user, node, DAY, at(DAY, 12))
    return [q["sql"] for q in captured.captured_queries]


def test_the_dashboard_does_not_grow_with_the_tree(tree):
    admin = tree.users["admin"]
    services.report_compute(day=DAY, now=at(DAY, 9))
    dashboard_queries(admin, tree.street)  # the login's roles are read once, then cached
    before = {n.pk: len(dashboard_queries(admin, n)) for n in (tree.street, tree.communities[0])}
    for c in range(3):
        community = geo.node_create(parent=tree.street, name=f"新社区{c}")
        for g in range(3):
            grid = geo.node_create(parent=community, name=f"新网格{c}{g}")
            geo.node_create(parent=grid, name="1号楼")
    extra = geo.node_create(parent=tree.communities[0], name="新网格")
    geo.node_create(parent=extra, name="9号楼")
    services.report_compute(day=DAY, now=at(DAY, 10))
    after = {n.pk: len(dashboard_queries(admin, n)) for n in (tree.street, tree.communities[0])}
    assert after == before
    assert before[tree.street.pk] <= 8


def test_every_daily_row_query_is_scoped(tree):
    services.report_compute(day=DAY, now=at(DAY, 9))
    staff = tree.users["community"]
    rows = ("reports_dailyfigure", "reports_gridreport")
    sql = [q for q in dashboard_queries(staff, tree.communities[0]) if any(t in q for t in rows)]
    # Twice: once for the node asked for, once from the login's scope.
    assert len(sql) == 4
    assert all(q.count(f'"community_id" = {tree.communities[0].pk}') == 2 for q in sql)
