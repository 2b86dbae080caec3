"""The closed loop's pages: issue a pass at the checkpoint (the code shown large, to show on
the phone or print), and the destination's page to confirm an arrival by the code."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.checkpoints.loop import queries, services
from bastion.checkpoints.models import Occupant
from bastion.core import scope
from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.geo.identity import mask_mobile, mask_name


@login_required
def issue(request, occupant_id: int):
    occupant = get_for_change(
        Occupant.objects.select_related("entry__place"), request.user, pk=occupant_id
    )
    form = {"client_id": uuid.uuid4(), "address": "", "contact_name": "", "contact_phone": ""}
    problems = []
    if request.method == "POST":
        post = request.POST
        form = {k: post.get(k, "")[:100] for k in form} | {
            "destination_id": post.get("destination_id", "")
        }
        node = None
        if form["destination_id"].isdigit():
            node = (
                queries.destinations(occupant.entry.place)
                .filter(pk=int(form["destination_id"]))
                .first()
            )
        try:
            if node is None:
                raise DomainError(_("Choose the destination's community."), field="destination_id")
            made = services.loop_pass_issue(
                actor=request.user,
                occupant=occupant,
                destination=node,
                address=form["address"],
                contact_name=form["contact_name"],
                contact_phone=form["contact_phone"],
                client_id=_uuid(form["client_id"]),
            )
        except DomainError as error:
            problems = error.problems
        else:
            return redirect("checkpoints:loop_pass", pass_id=made.pk)
    return render(
        request,
        "checkpoints/loop_issue.html",
        {
            "occupant": occupant,
            "name": mask_name(occupant.name),
            "destinations": queries.destinations(occupant.entry.place),
            "form": form,
            "problems": problems,
        },
        status=422 if problems else 200,
    )


@login_required
def loop_pass(request, pass_id: int):
    """The pass as the driver carries it: the code in large type, where to and by when."""
    found = queries.pass_for_checkpoint(request.user, pass_id)
    return render(
        request,
        "checkpoints/loop_pass.html",
        {
            "p": found,
            "name": mask_name(found.occupant.name),
            "phone": mask_mobile(found.contact_phone),
        },
    )


@login_required
def confirm(request):
    """The destination's page: type the code, see the pass, confirm the arrival."""
    code = services.code_normalise(request.POST.get("code") or request.GET.get("code", ""))[:12]
    found, problems = None, []
    if code:
        try:
            if request.method == "POST":
                found = services.loop_arrival_confirm(actor=request.user, code=code)
                messages.success(request, _("Arrival confirmed: %(code)s.") % {"code": found.code})
                return redirect(f"{request.path}?code={found.code}")
            found = services.loop_pass_find(actor=request.user, code=code)
        except DomainError as error:
            problems = error.problems
    return render(
        request,
        "checkpoints/loop_confirm.html",
        {
            "code": code,
            "p": found,
            "name": mask_name(found.occupant.name) if found else "",
            "can_confirm": bool(found) and scope.allows(request.user, scope.CHANGE, found),
            "overdue": bool(found) and found.arrived_at is None and found.due_at <= timezone.now(),
            "problems": problems,
        },
        status=422 if problems else 200,
    )


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.uuid4()
