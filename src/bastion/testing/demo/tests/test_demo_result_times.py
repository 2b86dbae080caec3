"""The demo's lab results are never dated before their tube was opened (nor closed), whatever
the hour it is built at (issue 14 item 10)."""

import random

import pytest
from django.db.models import F
from django.utils import timezone

from bastion.testing.demo.rounds import build_demo
from bastion.testing.scans.models import Tube


@pytest.mark.parametrize("hour", [4])
def test_results_come_after_their_tubes_at_any_hour(tree, hour):
    now = timezone.localtime().replace(hour=hour, minute=30, second=0, microsecond=0)
    build_demo(tree.street, random.Random(1), now)
    resulted = Tube.objects.exclude(resulted_at=None)
    assert resulted.exists()
    assert not resulted.filter(resulted_at__lt=F("opened_at")).exists()
    assert not resulted.filter(resulted_at__lt=F("closed_at")).exists()
