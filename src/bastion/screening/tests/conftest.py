"""Fixtures of the screening tests, on the small known tree (bastion.core.testing): a campaign
over the test street that started three days ago, and helpers to mark households."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from bastion.geo.models import Household, Node
from bastion.screening import services


def local_at(days_ago: int = 0, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An aware moment `days_ago` days before today, local time. Today's hour is capped at
    the current time so a visit is never in the future."""
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
    return min(moment, timezone.now()) if days_ago == 0 else moment


def walking_order(grid: Node) -> list[Household]:
    return list(
        Household.objects.filter(grid_id=grid.pk).order_by(
            "building__code", "unit__code", "floor", "room"
        )
    )


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def campaign(tree, today):
    return services.campaign_open(
        actor=tree.users["street"],
        node=tree.street,
        name="敲门行动",
        starts_on=today - dt.timedelta(days=3),
        ends_on=today + dt.timedelta(days=3),
    )


@pytest.fixture
def mark(tree, campaign):
    """mark(household, outcome, channel="", days_ago=0, findings=(), user="street")"""

    def _mark(
        household,
        outcome,
        channel="",
        *,
        days_ago=0,
        hour=10,
        findings=(),
        user="street",
        client_id=None,
    ):
        return services.visits_record(
            actor=tree.users[user],
            visits=[
                services.VisitInput(
                    client_id=client_id or uuid.uuid4(),
                    campaign_id=campaign.pk,
                    household_id=household.pk,
                    outcome=outcome,
                    channel=channel,
                    at=local_at(days_ago, hour),
                    findings=tuple(findings),
                )
            ],
            source="test",
        )[0]

    return _mark
