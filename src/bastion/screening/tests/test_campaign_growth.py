"""Households made while a campaign runs join its list as "not yet": the chief's list stays
complete whether the room is added by hand or by a ledger import."""

import datetime as dt

from bastion.geo import services as geo
from bastion.geo.models import Household
from bastion.ledgers import services as ledgers
from bastion.ledgers.tests.ledger_files import csv_bytes, good_rows
from bastion.screening import services
from bastion.screening.models import CampaignHousehold, HouseholdStatus


def test_a_room_added_by_hand_joins_the_running_campaign(tree, campaign):
    before = campaign.households.count()
    household = geo.household_create(unit=tree.units[0], room="999", floor=9)
    row = CampaignHousehold.objects.get(campaign=campaign, household=household)
    assert row.status == HouseholdStatus.NOT_YET
    assert (row.grid_id, row.unit_id) == (household.grid_id, household.unit_id)
    assert campaign.households.count() == before + 1


def test_an_import_adds_its_new_rooms_and_only_to_campaigns_covering_them(tree, today):
    first_grid = services.campaign_open(
        actor=tree.users["street"],
        node=tree.grids[0],
        name="一网格",
        starts_on=today,
        ends_on=today + dt.timedelta(days=2),
    )
    ended = services.campaign_open(
        actor=tree.users["street"],
        node=tree.grids[1],
        name="上周",
        starts_on=today - dt.timedelta(days=9),
        ends_on=today - dt.timedelta(days=2),
    )
    ended_count = ended.households.count()
    result = ledgers.residents_import(
        actor=tree.users["street"],
        node=tree.street,
        filename="台账.csv",
        content=csv_bytes(good_rows(30)),
    )
    assert result.households > 0
    new = Household.objects.order_by("-id")[: result.households]
    in_first = {h.pk for h in new if h.grid_id == tree.grids[0].pk}
    assert in_first, "the sample rows put some rooms in the first grid"
    joined = set(
        first_grid.households.filter(household__in=[h.pk for h in new]).values_list(
            "household_id", flat=True
        )
    )
    assert joined == in_first
    assert ended.households.count() == ended_count  # an ended campaign is left as it was


def test_no_running_campaign_no_rows(tree):
    geo.household_create(unit=tree.units[0], room="998", floor=9)
    assert not CampaignHousehold.objects.exists()
