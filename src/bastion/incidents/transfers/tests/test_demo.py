"""The demo on the small known tree with a quarantine hotel and a checkpoint: a dozen
transfers over six days, every state and destination present, written once."""

import random

from django.utils import timezone

from bastion.incidents.transfers import queries
from bastion.incidents.transfers.demo import build_demo
from bastion.incidents.transfers.models import Transfer


def test_demo_transfers(tree, hotel, checkpoint):
    now = timezone.now()
    assert build_demo(tree.street, random.Random(7), now) == {"transfers": 12}
    assert set(Transfer.objects.values_list("state", flat=True)) == {
        "planned", "on_the_way", "arrived", "cancelled"
    }  # fmt: skip
    assert set(Transfer.objects.values_list("destination", flat=True)) == {
        "hospital", "quarantine", "home"
    }  # fmt: skip
    assert Transfer.objects.filter(to_place=hotel).count() >= 4
    assert Transfer.objects.filter(from_place=checkpoint, resident=None).count() == 1
    street = tree.users["street"]
    today = queries.transfer_list(street, view="today")
    assert {"planned", "on_the_way"} <= set(today.values_list("state", flat=True))
    assert build_demo(tree.street, random.Random(7), now) == {}  # once
