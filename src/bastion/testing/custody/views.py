"""Chain-of-custody pages, made for a phone with a USB or phone barcode scanner (a keyboard
that types the code and Enter): every form has one focused input and submits on Enter.

Thin: reads in `testing.custody.queries`, writes in `testing.custody.services`; every row is
fetched through the scope (outside it is a 404; a row the login may only see, a 403 on
write). Each form carries a client id made when the page was drawn, so a double submit or a
resent form replays instead of writing twice. A refused write redraws the page with the
refusal (422) and keeps what was typed."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.geo.queries import change_history
from bastion.testing.custody import handovers, queries, services
from bastion.testing.custody.models import Bag, Box, BoxStatus, Handover, HandoverLeg
from bastion.testing.rounds import queries as round_queries
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Round, Site
from bastion.testing.scans import codes as scan_codes
from bastion.testing.scans import queries as scan_queries
from bastion.testing.scans.models import Tube


def _client_id(request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return None


def _int(raw: str, field: str) -> int:
    raw = (raw or "").strip()
    if not raw.isdigit():
        raise DomainError(_("Enter a number."), field=field)
    return int(raw)


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in (raw or "").replace(",", "\n").splitlines() if line.strip()]


def _sites(user, round_: Round) -> list[Site]:
    """The sites this login packs at for a round: in its scope, serving the round."""
    sites = round_queries.sites_for(user, scope.CHANGE).filter(round_services.round_area_q(round_))
    return list(sites.order_by("name"))


# ----------------------------------------------------------------------------------- round


def _round_page(request, round_: Round, problems=(), status: int = 200, form: str = ""):
    return render(
        request,
        "testing/custody_round.html",
        {
            "tab": "rounds",
            "round": round_,
            "summary": queries.round_custody(request.user, round_),
            "sites": _sites(request.user, round_),
            "client_id": uuid.uuid4(),
            "problems": problems,
            "form": form,
            "posted": request.POST,
        },
        status=status,
    )


@login_required
def round_custody(request, round_id: int):
    return _round_page(request, round_queries.round_for(request.user, round_id))


def _open(request, round_id: int, what: str):
    round_ = round_queries.round_for(request.user, round_id)
    try:
        site_id = _int(request.POST.get("site", ""), "site")
        site = get_for_change(round_queries.sites_for(request.user), request.user, pk=site_id)
        opener = services.bag_open if what == "bag" else services.box_open
        made = opener(
            actor=request.user,
            round=round_,
            site=site,
            barcode=request.POST.get("barcode", ""),
            client_id=_client_id(request),
        )
    except DomainError as e:
        return _round_page(request, round_, e.problems, status=422, form=what)
    return redirect(f"testing:custody_{what}", made.pk)


@login_required
@require_POST
def bag_open(request, round_id: int):
    return _open(request, round_id, "bag")


@login_required
@require_POST
def box_open(request, round_id: int):
    return _open(request, round_id, "box")


@login_required
def overdue(request, round_id: int):
    round_ = round_queries.round_for(request.user, round_id)
    late = queries.overdue(request.user, round_)
    return render(
        request,
        "testing/custody_overdue.html",
        {
            "tab": "rounds",
            "round": round_,
            "late": late,
            "open_bags": late.open_bags,
            "unreceived": [(b, queries.where_is(b)) for b in late.unreceived],
        },
    )


@login_required
def find(request):
    """A scanned barcode: its bag, its box, or the trail of its tube."""
    found = queries.find(request.user, request.GET.get("barcode", ""))
    if isinstance(found, Bag):
        return redirect("testing:custody_bag", found.pk)
    if isinstance(found, Box):
        return redirect("testing:custody_box", found.pk)
    if isinstance(found, Tube):
        return redirect("testing:custody_trail", found.pk)
    raise Http404


# ------------------------------------------------------------------------------------- bag


def _bag_page(request, bag: Bag, problems=(), status: int = 200, form: str = ""):
    return render(
        request,
        "testing/custody_bag.html",
        {
            "tab": "rounds",
            "bag": bag,
            "round": bag.round,
            "items": queries.bag_tubes(bag),
            "history": change_history(request.user, bag),
            "can_change": scope.allows(request.user, scope.CHANGE, bag),
            "client_id": uuid.uuid4(),
            "problems": problems,
            "form": form,
            "posted": request.POST,
        },
        status=status,
    )


@login_required
def bag(request, bag_id: int):
    return _bag_page(request, queries.bag_for(request.user, bag_id))


def _write(request, rows, pk: int, page, url_name: str, form: str, write) -> object:
    """Fetch the bag or box for change, run `write` on it, and answer with its page: again
    with the problems (422) when refused, else redirected with the message."""
    found = get_for_change(rows, request.user, pk=pk)
    try:
        message = write(found)
    except DomainError as e:
        found.refresh_from_db()
        return page(request, found, e.problems, status=422, form=form)
    messages.success(request, message)
    return redirect(url_name, found.pk)


def _bag_write(request, bag_id: int, form: str, write) -> object:
    rows = Bag.objects.select_related("round", "site", "box")
    return _write(request, rows, bag_id, _bag_page, "testing:custody_bag", form, write)


@login_required
@require_POST
def bag_pack(request, bag_id: int):
    def write(found: Bag) -> str:
        item = services.tube_pack(
            actor=request.user,
            bag=found,
            barcode=request.POST.get("barcode", ""),
            client_id=_client_id(request),
        )
        found.refresh_from_db()
        return _("Tube %(tube)s packed: %(n)s in the bag.") % {
            "tube": item.tube.barcode,
            "n": found.tubes,
        }

    return _bag_write(request, bag_id, "pack", write)


@login_required
@require_POST
def bag_unpack(request, bag_id: int):
    def write(found: Bag) -> str:
        barcode = request.POST.get("barcode", "")
        found = services.tube_unpack(actor=request.user, bag=found, barcode=barcode)
        return _("Tube %(tube)s taken out: %(n)s in the bag.") % {
            "tube": scan_codes.barcode_text(barcode),
            "n": found.tubes,
        }

    return _bag_write(request, bag_id, "unpack", write)


@login_required
@require_POST
def bag_seal(request, bag_id: int):
    def write(found: Bag) -> str:
        sealed = services.bag_seal(
            actor=request.user,
            bag=found,
            counted=_int(request.POST.get("count", ""), "count"),
            scanned=_lines(request.POST.get("scanned", "")),
            client_id=_client_id(request),
        )
        return _("Bag %(bag)s sealed with %(n)s tubes.") % {
            "bag": sealed.barcode,
            "n": sealed.counted,
        }

    return _bag_write(request, bag_id, "seal", write)


@login_required
@require_POST
def bag_reopen(request, bag_id: int):
    def write(found: Bag) -> str:
        reopened = services.bag_reopen(
            actor=request.user, bag=found, reason=request.POST.get("reason", "")
        )
        return _("Bag %(bag)s is open again: pack it and seal it anew.") % {"bag": reopened.barcode}

    return _bag_write(request, bag_id, "reopen", write)


# ------------------------------------------------------------------------------------- box


def _box_page(request, box: Box, problems=(), status: int = 200, form: str = ""):
    receipt = queries.receipt_of(box)
    return render(
        request,
        "testing/custody_box.html",
        {
            "tab": "rounds",
            "box": box,
            "round": box.round,
            "bags": queries.box_bags(box),
            "handovers": [
                (h, queries.side(h, "from"), queries.side(h, "to")) for h in queries.handovers(box)
            ],
            "receipt": receipt,
            "receipt_text": queries.receipt_summary(receipt) if receipt else "",
            "legs": [
                (leg, HandoverLeg(leg).label) for leg in handovers.NEXT_LEGS[BoxStatus(box.status)]
            ],
            "can_change": scope.allows(request.user, scope.CHANGE, box),
            "can_reveal": scope.allows(request.user, scope.REVEAL, box),
            "client_id": uuid.uuid4(),
            "problems": problems,
            "form": form,
            "posted": request.POST,
        },
        status=status,
    )


@login_required
def box(request, box_id: int):
    return _box_page(request, queries.box_for(request.user, box_id))


def _box_write(request, box_id: int, form: str, write) -> object:
    rows = Box.objects.select_related("round", "site")
    return _write(request, rows, box_id, _box_page, "testing:custody_box", form, write)


@login_required
@require_POST
def box_add(request, box_id: int):
    def write(found: Box) -> str:
        added = services.bag_box(
            actor=request.user,
            box=found,
            barcode=request.POST.get("barcode", ""),
            client_id=_client_id(request),
        )
        return _("Bag %(bag)s put into the box.") % {"bag": added.barcode}

    return _box_write(request, box_id, "add", write)


@login_required
@require_POST
def handover_reveal(request, handover_id: int, which: str):
    """One side's mobile in full (logged): htmx gets the number, a plain post a message on
    the box's page."""
    handover = scope.get_scoped_or_404(Handover, request.user, scope.REVEAL, pk=handover_id)
    try:
        value = handovers.handover_phone_reveal(user=request.user, handover=handover, side=which)
    except DomainError:  # not a side
        raise Http404 from None
    if request.headers.get("HX-Request"):
        return render(request, "geo/_revealed.html", {"value": value, "field": "phone"})
    messages.info(request, value)
    return redirect("testing:custody_box", handover.box_id)


@login_required
@require_POST
def box_handover(request, box_id: int):
    """The login is one side (hands over, or takes over); the other is typed in."""

    def write(found: Box) -> str:
        me = handovers.party_of(request.user)
        other = handovers.Party(
            name=request.POST.get("name", ""), phone=request.POST.get("phone", "")
        )
        mine = request.POST.get("me", "from")
        handover = handovers.box_handover(
            actor=request.user,
            box=found,
            leg=request.POST.get("leg", ""),
            giver=me if mine == "from" else other,
            taker=other if mine == "from" else me,
            client_id=_client_id(request) or uuid.uuid4(),
        )
        return _("Hand-over recorded: %(leg)s.") % {"leg": handover.get_leg_display()}

    return _box_write(request, box_id, "handover", write)


@login_required
@require_POST
def box_receive(request, box_id: int):
    def write(found: Box) -> str:
        receipt = handovers.box_receive(
            actor=request.user,
            box=found,
            bags_counted=_int(request.POST.get("bags", ""), "bags_counted"),
            tubes_counted=_int(request.POST.get("tubes", ""), "tubes_counted"),
            scanned_bags=_lines(request.POST.get("scanned", "")),
            note=request.POST.get("note", ""),
            client_id=_client_id(request) or uuid.uuid4(),
        )
        if receipt.mismatch:
            return _("Received, with a difference: %(text)s") % {
                "text": queries.receipt_summary(receipt)
            }
        return _("Received: the counts match.")

    return _box_write(request, box_id, "receive", write)


# ----------------------------------------------------------------------------------- trail


@login_required
def trail(request, tube_id: int):
    found = scan_queries.tube_for(request.user, tube_id)
    return render(
        request,
        "testing/custody_trail.html",
        {
            "tab": "rounds",
            "tube": found,
            "round": found.round,
            "trail": queries.trail(request.user, found),
        },
    )
