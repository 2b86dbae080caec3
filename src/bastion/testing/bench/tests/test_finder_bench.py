"""The finder's burst (used by `bastion bench`) against a live server: it makes requests
from several processes and counts them. No timing is asserted; speed is the benchmark's."""

import datetime as dt

import pytest
from django.core.cache import cache

from bastion.geo import services as geo
from bastion.testing.bench.finder import burst
from bastion.testing.rounds import services as round_services


@pytest.fixture
def community(transactional_db):
    cache.clear()
    city = geo.node_create(parent=None, name="压测市", code="C")
    district = geo.node_create(parent=city, name="压测区", code="D")
    street = geo.node_create(parent=district, name="压测街道", code="S")
    community = geo.node_create(parent=street, name="压测社区", code="C1")
    grid = geo.node_create(parent=community, name="压测网格", code="G1")
    building = geo.node_create(parent=grid, name="1号楼", code="B1", floors=6)
    round_services.site_create(
        actor=None,
        node=grid,
        name="压测采样点",
        address="广场",
        opens_at=dt.time(0),
        closes_at=dt.time(0),
        buildings=[building],
    )
    yield community
    cache.clear()


def test_a_burst_of_residents_gets_answers(live_server, community):
    paths = [f"/find/{community.pk}/", f"/api/v1/testing/finder/{community.pk}"]
    result = burst(live_server.url, paths, clients=2, seconds=0.5)
    assert result["requests"] > 0 and result["ok"] == result["requests"], result
    assert result["statuses"] == {"200": result["requests"]}
    assert result["rps"] > 0 and result["p95_ms"] >= result["p50_ms"] > 0
