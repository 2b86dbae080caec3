"""Reads of report-in, and the public report-in link: a community's id, signed, so that the QR
code cannot be guessed for another community and needs no login."""

from django.core import signing
from django.db.models import QuerySet

from bastion.geo.models import (
    Node,
)
from bastion.people.mobilization.models import (
    ReportIn,
)
from bastion.people.mobilization.queries.common import within


def report_ins_under(user, node: Node, *, status: str = "") -> QuerySet[ReportIn]:
    rows = ReportIn.objects.restrict(user).filter(**within(node))
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("community", "person", "post").order_by("-submitted_at", "-id")


REPORT_IN_SALT = "bastion.people.report-in"


def report_in_token(community: Node) -> str:
    return signing.Signer(salt=REPORT_IN_SALT).sign(str(community.pk))


def community_from_token(token: str) -> Node | None:
    try:
        pk = int(signing.Signer(salt=REPORT_IN_SALT).unsign(token or ""))
    except (signing.BadSignature, ValueError):
        return None
    return Node.objects.filter(pk=pk, level="community").first()
