"""A quarantine site and a checkpoint of the first grid, a quarantine site of the second
community, on the small known tree (`accounts.testing`)."""

import datetime as dt

import pytest

from bastion.people.mobilization import services as mobilization


@pytest.fixture
def hotel(tree):
    return mobilization.place_create(
        node=tree.grids[0],
        name="如家隔离酒店",
        kind="quarantine_site",
        opened_on=dt.date(2026, 12, 1),
        actor=tree.users["admin"],
    )


@pytest.fixture
def far_hotel(tree):
    return mobilization.place_create(
        node=tree.communities[1],
        name="锦江隔离酒店",
        kind="quarantine_site",
        opened_on=dt.date(2026, 12, 1),
        actor=tree.users["admin"],
    )


@pytest.fixture
def checkpoint(tree):
    return mobilization.place_create(
        node=tree.grids[0],
        name="幸福路卡口",
        kind="checkpoint",
        opened_on=dt.date(2026, 12, 1),
        actor=tree.users["admin"],
    )


@pytest.fixture
def resident(tree):
    from bastion.geo.models import Resident

    return Resident.objects.filter(unit=tree.units[0]).order_by("pk").first()
