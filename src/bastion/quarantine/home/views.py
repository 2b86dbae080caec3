"""The home measures' pages: who is at home now and the checks missed (by community and grid),
the grid chief's phone list of reports still due today, one measure (its reports, its numbers
masked until revealed and logged, its end), and the household's own page (opened by the
household's secret link of `requests`) where it reports its own temperatures. Thin: reads in
`queries`, writes in `services`."""

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.privacy import personal_data_reveal
from bastion.geo.identity import mask_id_number, mask_mobile, mask_name
from bastion.quarantine.home import queries, services
from bastion.quarantine.home.models import HomeMeasure, HomeReport, Reporter
from bastion.quarantine.models import SYMPTOMS, Half
from bastion.requests.home import household_page

MISSED_DAYS = 3  # the missed checks listed: today and the two days before
LISTED = 300


def _client_id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()


def _said(request, error: DomainError) -> None:
    for p in error.problems[:10]:
        messages.error(request, p.message)


def _shown(m: HomeMeasure) -> dict:
    return {
        "id": m.pk,
        "name": mask_name(m.name),
        "doc": mask_id_number(m.doc_number),
        "kind": m.get_kind_display(),
        "grid": m.grid.name if m.grid_id else "",
        "community": m.community.name if m.community_id else "",
        "starts_on": m.starts_on,
        "ends_on": m.ends_on,
        "door_sensor": m.door_sensor,
        "source": m.get_source_display(),
    }


@login_required
def index(request):
    """At home now, and the checks missed in the last days by community and grid."""
    now = timezone.now()
    since = timezone.localdate(now) - dt.timedelta(days=MISSED_DAYS - 1)
    missed = queries.missed(request.user, since=since, at=now)
    current = [_shown(m) for m in queries.measures_current(request.user)[:LISTED]]
    return render(
        request,
        "quarantine/home/index.html",
        {
            "current": current,
            "by_area": queries.missed_by_area(missed),
            "missed": [
                {"m": _shown(r.measure), "day": r.day, "half": Half(r.half).label}
                for r in missed[:LISTED]
            ],
            "missed_count": len(missed),
            "since": since,
        },
    )


@login_required
def due(request):
    """The grid chief's phone: who still has a report due today, one form each."""
    if request.method == "POST":
        post = request.POST
        measure = scope.get_scoped_or_404(
            HomeMeasure.objects.all(), request.user, scope.CHANGE,
            pk=int(post.get("measure_id") or 0) if (post.get("measure_id") or "").isdigit() else 0,
        )  # fmt: skip
        try:
            services.report_record(
                actor=request.user,
                measure=measure,
                temperature=post.get("temperature", "")[:6],
                symptoms=post.getlist("symptoms")[:10],
                half=post.get("half") or None,
                client_id=_client_id(post.get("client_id")),
            )
            messages.success(request, _("%(name)s: recorded.") % {"name": mask_name(measure.name)})
        except DomainError as error:
            _said(request, error)
        return redirect("quarantine:home_due")
    rows = [
        _shown(d.measure)
        | {
            "halves": [(h, Half(h).label) for h in d.halves],
            "test_today": d.test_today,
            "day_number": d.day_number,
            "client_id": uuid.uuid4(),
        }
        for d in queries.due_today(request.user)[:LISTED]
    ]
    return render(
        request,
        "quarantine/home/due.html",
        {"due": rows, "day": timezone.localdate(), "symptoms": SYMPTOMS.items()},
    )


@login_required
def measure(request, measure_id: int):
    m = scope.get_scoped_or_404(HomeMeasure.objects.all(), request.user, pk=measure_id)
    return render(
        request,
        "quarantine/home/measure.html",
        {
            "measure": m,
            "shown": _shown(m),
            "phone": mask_mobile(m.phone) if m.phone else "",
            "reports": m.reports.all()[:60],
            "can_reveal": scope.allows(request.user, scope.REVEAL, m),
            "can_end": m.ended_at is None and scope.allows(request.user, scope.CHANGE, m),
        },
    )


@login_required
@require_POST
def end(request, measure_id: int):
    m = scope.get_scoped_or_404(
        HomeMeasure.objects.all(), request.user, scope.CHANGE, pk=measure_id
    )
    try:
        services.measure_end(actor=request.user, measure=m, reason=request.POST.get("reason", ""))
        messages.success(request, _("The home measure has ended."))
    except DomainError as error:
        _said(request, error)
    return redirect("quarantine:home_measure", measure_id=m.pk)


@login_required
@require_POST
def reveal(request, measure_id: int, field: str):
    m = scope.get_scoped_or_404(HomeMeasure.objects.all(), request.user, pk=measure_id)
    if field not in ("doc_number", "phone"):
        raise Http404
    value = personal_data_reveal(user=request.user, subject=m, field=field, via="web", whose=m.name)
    return render(request, "geo/_revealed.html", {"value": value, "field": field})


@household_page
def household(request, link):
    """The household's own page: its members under a home measure report their temperature."""
    token = request.resolver_match.kwargs["token"]
    today = timezone.localdate()
    measures = list(
        HomeMeasure.objects.filter(household_id=link.household_id).filter(queries.current_q(today))
    )
    if request.method == "POST":
        post = request.POST
        m = next((m for m in measures if str(m.pk) == post.get("measure_id")), None)
        if m is None:
            raise Http404
        try:
            services.report_record(
                actor=link, measure=m, temperature=post.get("temperature", "")[:6],
                symptoms=post.getlist("symptoms")[:10], reporter=Reporter.HOUSEHOLD,
                client_id=_client_id(post.get("client_id")),
            )  # fmt: skip
            messages.success(request, _("Thank you: recorded."))
        except DomainError as error:
            _said(request, error)
        return redirect("quarantine:home_household", token=token)
    half = services.half_of(timezone.now())
    done = set(
        HomeReport.objects.filter(measure__in=measures, day=today, half=half).values_list(
            "measure_id", flat=True
        )
    )
    rows = [
        {"id": m.pk, "name": mask_name(m.name), "kind": m.get_kind_display(),
         "ends_on": m.ends_on, "done": m.pk in done, "client_id": uuid.uuid4()}
        for m in measures
    ]  # fmt: skip
    return render(
        request,
        "quarantine/home/household.html",
        {
            "token": token,
            "household": link.household,
            "rows": rows,
            "half": Half(half).label,
            "symptoms": SYMPTOMS.items(),
        },
    )
