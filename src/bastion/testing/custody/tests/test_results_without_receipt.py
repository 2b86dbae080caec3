"""A lab result for a tube whose bag the lab never received is taken (the lab has the tube in
hand) but warned about, and the chain of custody lists it (issue 14 item 10)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bastion.core.testing import PASSWORD
from bastion.testing.conftest import fill_tubes
from bastion.testing.scans.models import Tube


def test_a_result_for_a_tube_the_lab_never_received_warns_and_shows_in_custody(testing, packed):
    loose = fill_tubes(testing, testing.stations[0], ["L-0001"], offset=15)[0]  # never bagged
    client = Client(headers={"accept-language": "en"})
    assert client.login(username="street", password=PASSWORD)
    upload = SimpleUploadedFile(
        "results.csv", b"tube,result\nL-0001,negative\nC-0001,negative\n", "text/csv"
    )
    answer = client.post(
        reverse("testing:results_import", args=[testing.round.pk]), {"file": upload}, follow=True
    )
    assert answer.redirect_chain[-1][0] == reverse("testing:custody", args=[testing.round.pk])
    html = answer.content.decode()
    assert "The lab never received the bag of C-0001、L-0001" in html
    assert Tube.objects.get(pk=loose.pk).result == "negative"  # taken, with the warning
    assert "Resulted, never received by the lab" in html
    assert reverse("testing:custody_trail", args=[loose.pk]) in html


def test_the_bag_page_says_when_packing_began_not_a_tube(testing, packed):
    """装袋 (packing), as the custody pages say everywhere: not 开管 (a tube), nor 开袋."""
    client = Client(headers={"accept-language": "zh-hans"})
    assert client.login(username="street", password=PASSWORD)
    html = client.get(reverse("testing:custody_bag", args=[packed.pk])).content.decode()
    assert "开始装袋" in html
    assert "开管" not in html and "开袋" not in html
