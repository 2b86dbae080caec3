"""Result pages: the results import of a round, a tube with its traceback, the retest list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.testing.custody import queries as custody_queries
from bastion.testing.results import queries, response, services
from bastion.testing.results.models import RetestState
from bastion.testing.rounds import queries as round_queries
from bastion.testing.rounds.views import asked_node_id, can_change, crumbs
from bastion.testing.scans import queries as scan_queries
from bastion.testing.scans.models import Result, Tube, TubeKind


@login_required
def retests(request, round_id: int):
    round_ = round_queries.round_for(request.user, round_id)
    node = geo_queries.area_focus(request.user, round_.node, asked_node_id(request))
    rows = response.with_state(queries.retests(request.user, round_, node))
    state = request.GET.get("state", "")
    if state in RetestState.values:
        rows = rows.filter(state=state)
    return render(
        request,
        "testing/retests.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": crumbs(request.user, round_, node),
            "retests": list(rows),
            "state": state,
            "states": RetestState.choices,
            "response": response.round_response(
                request.user, round_, queries.positive_tubes(request.user, round_)
            ),
        },
    )


@login_required
def results_import(request, round_id: int):
    """Upload a lab's result file: all or nothing, every bad row listed."""
    round_ = round_queries.round_for(request.user, round_id)
    if not can_change(request.user, round_):
        raise PermissionDenied
    problems = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError(_("Choose a file."), field="file")
            rows = services.result_rows_read(filename=upload.name, content=upload.read())
            batch = services.results_import(
                actor=request.user, round=round_, rows=rows, filename=upload.name
            )
        except DomainError as e:
            problems = e.problems
        else:
            messages.success(
                request,
                _("%(n)s tubes resulted: %(p)s positive, %(i)s invalid.")
                % {"n": batch.tubes, "p": batch.positive, "i": batch.invalid},
            )
            unreceived = list(
                custody_queries.resulted_unreceived(Tube.objects.filter(result_import=batch))
                .order_by("barcode")
                .values_list("barcode", flat=True)[:11]
            )
            if unreceived:
                messages.warning(
                    request,
                    _(
                        "The lab never received the bag of %(tubes)s: check these results "
                        "with the lab (listed in the chain of custody)."
                    )
                    % {"tubes": "、".join(unreceived[:10]) + ("…" if len(unreceived) > 10 else "")},
                )
                return redirect("testing:custody", round_.pk)
            return redirect("testing:round", round_.pk)
    return render(
        request,
        "testing/results_import.html",
        {
            "tab": "rounds",
            "round": round_,
            "problems": problems,
        },
    )


@login_required
def tube(request, tube_id: int):
    """The traceback of a tube: its people, their homes and the chiefs to call."""
    found = scan_queries.tube_for(request.user, tube_id)
    tb = queries.traceback(request.user, found)
    pool = None
    if found.result == Result.POSITIVE and found.kind != TubeKind.SINGLE:
        [pool] = response.pool_responses(request.user, [found])
    return render(
        request,
        "testing/tube.html",
        {
            "tab": "rounds",
            "tube": found,
            "tb": tb,
            "pool": pool,
            "round_response": response.round_response(
                request.user, found.round, queries.positive_tubes(request.user, found.round)
            )
            if pool
            else None,
        },
    )


@login_required
def tube_find(request):
    barcode = request.GET.get("barcode", "").strip()
    if not barcode:
        raise Http404
    return redirect("testing:tube", scan_queries.tube_by_barcode(request.user, barcode).pk)
