"""Staff pages of the requests module: the inboxes of requests, a request and its moves, the
issue-talk meetings and their printable minutes, the errand board and a courier's list,
overdue lists, figures, and the households' links with their QR codes.

Thin: reads in `requests.queries`, writes in `requests.services`, every row fetched through
the scope (outside it is a 404; a role that may only look gets 403 on a write)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.core.files import stored_file_response
from bastion.core.photos import photos_check
from bastion.geo import queries as geo_queries
from bastion.geo.models import Household, Node
from bastion.requests import qr, queries, services
from bastion.requests.forms import (
    AssignForm,
    CancelForm,
    CloseForm,
    ConfirmForm,
    CourierForm,
    DeliverForm,
    ErrandForm,
    MeetingForm,
    MeetingRecordForm,
    RateForm,
    ReopenForm,
    ReportBackForm,
    RequestForm,
    ResultForm,
    StepForm,
    TriageForm,
    parse_items,
)
from bastion.requests.models import (
    Category,
    Errand,
    ErrandStatus,
    Meeting,
    MeetingStatus,
    Request,
    Status,
)
from bastion.requests.services import ERRAND_MOVES, REQUEST_MOVES, request_allows

PLACE_LEVELS = ("community", "grid", "building", "unit")
PERIODS = (7, 30, 90)


def _places(user):
    """The places a request or errand can be raised at, in tree order."""
    return Node.objects.restrict(user, scope.CHANGE).filter(level__in=PLACE_LEVELS).order_by("path")


def _problems(request, error: DomainError) -> None:
    messages.error(request, " ".join(p.message for p in error.problems))


def _scoped_household(user, household_id: str | None) -> Household | None:
    if household_id and household_id.isdigit():
        return queries.household_for(user, int(household_id), scope.CHANGE)
    return None


# --------------------------------------------------------------------------- requests


@login_required
def index(request):
    user = request.user
    counts = queries.inbox_counts(user)
    inbox = request.GET.get("inbox") or next(
        (k for k in ("triage", "claim", "claimed") if counts.get(k)), "open"
    )
    category = request.GET.get("category", "")
    text = request.GET.get("q", "")
    qs = queries.request_list(
        user,
        inbox=inbox if inbox != "open" else "",
        category=category,
        text=text,
        mine=inbox == "mine",
    )
    if inbox == "open":
        qs = qs.exclude(status=Status.CLOSED)
    now = timezone.now()
    rows = list(qs[:200])
    late = set(
        queries.requests_for(user)
        .filter(pk__in=[r.pk for r in rows])
        .filter(queries.request_overdue_q(now))
        .values_list("pk", flat=True)
    )
    for r in rows:
        r.overdue = r.pk in late
    inboxes = [("open", _("All open"), sum(v for k, v in counts.items() if k != "closed"))]
    inboxes += [(key, label, counts[key]) for key, label in queries.INBOX_LABELS.items()]
    return render(
        request,
        "requests/index.html",
        {
            "rows": rows,
            "inbox": inbox,
            "inboxes": inboxes,
            "category": category,
            "q": text,
            "categories": Category.choices,
            "can_change": scope.has_action(user, scope.CHANGE),
            "now": now,
        },
    )


@login_required
def request_new(request):
    user = request.user
    if not scope.has_action(user, scope.CHANGE):
        raise PermissionDenied
    household = _scoped_household(user, request.GET.get("household"))
    initial = {}
    if (node_id := request.GET.get("node", "")).isdigit():
        initial["node"] = int(node_id)
    form = RequestForm(
        request.POST or None,
        request.FILES or None,
        nodes=_places(user),
        household=household,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            photos = photos_check(data["photos"])
            created = services.request_create(
                actor=user,
                household=data["household"],
                node=data["node"] if data["household"] is None else None,
                channel=data["channel"],
                category=data["category"],
                urgency=data["urgency"],
                title=data["title"],
                description=data["description"],
                contact_phone=data["contact_phone"],
                photos=photos,
                client_id=data["client_id"],
            )
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Request collected."))
            return redirect("requests:detail", pk=created.pk)
    return render(request, "requests/request_new.html", {"form": form})


def _move_forms(r: Request, user) -> dict:
    """The forms of the moves the request allows now (none for a user who may only look)."""
    if not scope.can(user, scope.CHANGE, r):
        return {}
    forms = {
        "triage": TriageForm,
        "claim": StepForm,
        "done": ResultForm,
        "close": CloseForm,
        "rate": RateForm,
        "reopen": ReopenForm,
    }
    shown = {name: form() for name, form in forms.items() if request_allows(r, name)}
    if request_allows(r, "assign") and r.meeting_id:
        shown["assign"] = AssignForm(
            initial={"due_on": timezone.localdate(r.meeting.starts_at) + dt.timedelta(days=14)}
        )
    return shown


@login_required
def request_detail(request, pk: int):
    user = request.user
    r = queries.request_for(user, pk)
    now = timezone.now()
    due = queries.request_due_at(r)
    return render(
        request,
        "requests/request.html",
        {
            "r": r,
            "photos": queries.request_photos(r),
            "forms": _move_forms(r, user),
            "due": due,
            "overdue": due is not None and due < now,
            "history": queries.history(user, r),
            "next_meeting": services.next_meeting(r.community_id),
            "meeting_visible": r.meeting is not None and scope.can(user, scope.VIEW, r.meeting),
            "can_reveal": scope.allows(user, scope.REVEAL, r),
        },
    )


def _act(request, r: Request, action: str) -> Request:
    """Run one move from the posted form; DomainError goes back to the page."""
    user, data, files = request.user, request.POST, request.FILES
    if action == "triage":
        form = TriageForm(data)
        if not form.is_valid():
            raise DomainError(_("Choose handle-now or consult-and-assign."), field="track")
        return services.request_triage(actor=user, request=r, track=form.cleaned_data["track"])
    if action == "claim":
        form = StepForm(data)
        return services.request_claim(actor=user, request=r, client_id=_cid(form))
    if action == "done":
        form = ResultForm(data, files)
        if not form.is_valid():
            raise DomainError(_("Check the photos."), field="photos")
        photos = photos_check(form.cleaned_data["photos"])
        return services.request_done(
            actor=user,
            request=r,
            result=form.cleaned_data["result"],
            photos=photos,
            client_id=form.cleaned_data["client_id"],
        )
    if action == "assign":
        form = AssignForm(data)
        if not form.is_valid():
            raise DomainError(_("Say who took it and by when."), field="assignee")
        return services.request_assign(actor=user, request=r, **form.cleaned_data)
    if action == "report_back":
        form = ReportBackForm(data)
        if not form.is_valid():
            raise DomainError(_("Choose the meeting."), field="meeting")
        meeting = queries.meeting_for(user, form.cleaned_data["meeting"])
        return services.request_report_back(
            actor=user, request=r, meeting=meeting, note=form.cleaned_data["note"]
        )
    if action == "close":
        form = CloseForm(data)
        form.is_valid()
        return services.request_close(
            actor=user, request=r, result=form.cleaned_data.get("result", "")
        )
    if action == "rate":
        form = RateForm(data)
        if not form.is_valid():
            raise DomainError(_("Rate from 1 to 5."), field="rating")
        return services.request_rate(
            actor=user,
            request=r,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
            client_id=form.cleaned_data["client_id"],
        )
    if action == "reopen":
        form = ReopenForm(data)
        form.is_valid()
        return services.request_reopen(
            actor=user,
            request=r,
            reason=form.cleaned_data.get("reason", ""),
            client_id=form.cleaned_data.get("client_id"),
        )
    raise Http404


def _cid(form):
    return form.cleaned_data["client_id"] if form.is_valid() else None


DONE_MESSAGES = {
    "triage": gettext_lazy("Track chosen."),
    "claim": gettext_lazy("Claimed: it is yours now."),
    "done": gettext_lazy("Result recorded."),
    "assign": gettext_lazy("Assignment recorded."),
    "report_back": gettext_lazy("Report-back recorded."),
    "close": gettext_lazy("Request closed."),
    "rate": gettext_lazy("Rating recorded."),
    "reopen": gettext_lazy("Request reopened."),
}


@login_required
@require_POST
def request_act(request, pk: int, action: str):
    if action not in REQUEST_MOVES:
        raise Http404
    r = get_for_change(Request.objects.select_related("meeting"), request.user, pk=pk)
    try:
        _act(request, r, action)
    except DomainError as error:
        _problems(request, error)
    else:
        messages.success(request, str(DONE_MESSAGES[action]))
    back = request.POST.get("next", "")
    if back.startswith("/requests/") and not back.startswith("//"):
        return redirect(back)
    return redirect("requests:detail", pk=pk)


@login_required
def photo(request, pk: int):
    found = queries.photo_for(request.user, pk)
    return stored_file_response(found.file, found.content_type)


@login_required
def overdue(request):
    now = timezone.now()
    late_requests = list(queries.overdue_requests(request.user, now)[:300])
    late_errands = list(queries.overdue_errands(request.user, now)[:300])
    for r in late_requests:
        r.due = queries.request_due_at(r)
    for e in late_errands:
        e.due = queries.errand_due_at(e)
    return render(
        request,
        "requests/overdue.html",
        {"requests": late_requests, "errands": late_errands, "now": now},
    )


@login_required
def figures(request):
    user = request.user
    roots = list(geo_queries.root_nodes(user))
    node_id = request.GET.get("node", "")
    if node_id.isdigit():
        node = geo_queries.node_for(user, int(node_id))
    elif roots:
        node = roots[0]
    else:
        raise Http404
    days = int(request.GET["days"]) if request.GET.get("days", "").isdigit() else 30
    days = days if days in PERIODS else 30
    now = timezone.now()
    end = queries._day_end(timezone.localdate(now))
    start = end - dt.timedelta(days=days)
    own, children = queries.children_figures(user, node, start, end, now)
    return render(
        request,
        "requests/figures.html",
        {
            "node": node,
            "own": own,
            "children": children,
            "days": days,
            "periods": PERIODS,
            "timings": queries.timings(user, node, start, end),
            "start": start,
            "end": end,
            "last_day": timezone.localdate(now),
            "crumbs": geo_queries.ancestors(user, node),
        },
    )


# --------------------------------------------------------------------------- meetings


@login_required
def meetings(request):
    user = request.user
    communities = queries.communities_for(user)
    form = MeetingForm(
        request.POST or None, communities=communities, initial={"community": communities.first()}
    )
    if request.method == "POST":
        if not scope.has_action(user, scope.CHANGE):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = services.meeting_schedule(
                    actor=user,
                    community=data["community"],
                    title=data["title"],
                    starts_at=data["starts_at"],
                    place=data["place"],
                    client_id=data["client_id"],
                )
            except DomainError as error:
                form.add_problems(error)
            else:
                messages.success(request, _("Meeting scheduled."))
                return redirect("requests:meeting", pk=meeting.pk)
    rows = list(queries.meetings_for(user).order_by("-starts_at", "-pk")[:100])
    waiting = queries.requests_for(user).filter(status=Status.ON_AGENDA, meeting__isnull=True)
    return render(
        request,
        "requests/meetings.html",
        {
            "form": form,
            "meetings": rows,
            "waiting": waiting.count(),
            "can_schedule": communities.exists(),
            "now": timezone.now(),
        },
    )


@login_required
def meeting_detail(request, pk: int):
    user = request.user
    meeting = queries.meeting_for(user, pk)
    can_change = scope.can(user, scope.CHANGE, meeting)
    record_form = MeetingRecordForm(meeting=meeting)
    if request.method == "POST":
        meeting = get_for_change(Meeting, user, pk=pk)
        record_form = MeetingRecordForm(request.POST)
        if record_form.is_valid():
            data = record_form.cleaned_data
            try:
                services.meeting_record(
                    actor=user,
                    meeting=meeting,
                    attendees=record_form.attendees(),
                    chair=data["chair"],
                    recorder=data["recorder"],
                    notes=data["notes"],
                )
                if request.POST.get("hold"):
                    services.meeting_hold(actor=user, meeting=meeting)
            except DomainError as error:
                record_form.add_problems(error)
                _problems(request, error)
            else:
                messages.success(request, _("Meeting record saved."))
                return redirect("requests:meeting", pk=pk)
    return _meeting_page(request, meeting, can_change=can_change, record_form=record_form)


def _meeting_page(
    request,
    meeting: Meeting,
    *,
    can_change: bool,
    record_form: MeetingRecordForm,
    refused: AssignForm | None = None,
    refused_pk: int | None = None,
    status: int = 200,
):
    """The meeting's page; an assignment refused comes back bound (what was typed, the reason
    beside its field, that field focused so the phone scrolls to it)."""
    agenda = queries.meeting_agenda(meeting)
    for item in agenda:
        if refused is not None and item.pk == refused_pk:
            item.assign_form = refused
            continue
        item.assign_form = (
            AssignForm(
                prefix=f"a{item.pk}",
                initial={"due_on": timezone.localdate(meeting.starts_at) + dt.timedelta(days=14)},
            )
            if can_change and request_allows(item, "assign")
            else None
        )
    report_backs = queries.meeting_report_backs(meeting)
    for item in report_backs:
        item.report_form = (
            ReportBackForm(initial={"meeting": meeting.pk})
            if (can_change and request_allows(item, "report_back"))
            else None
        )
    return render(
        request,
        "requests/meeting.html",
        {
            "meeting": meeting,
            "agenda": agenda,
            "report_backs": report_backs,
            "attendees": queries.meeting_attendees(meeting),
            "record_form": record_form,
            "can_change": can_change,
            "held": meeting.status == MeetingStatus.HELD,
        },
        status=status,
    )


@login_required
@require_POST
def meeting_assign(request, pk: int, request_id: int):
    """An agenda item taken at the meeting (its form is prefixed by the item)."""
    user = request.user
    meeting = queries.meeting_for(user, pk)
    r = get_for_change(
        Request.objects.select_related("meeting").filter(meeting=meeting), user, pk=request_id
    )
    form = AssignForm(request.POST, prefix=f"a{r.pk}")
    if form.is_valid():
        try:
            services.request_assign(actor=user, request=r, **form.cleaned_data)
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Assignment recorded."))
            return redirect(reverse("requests:meeting", args=[pk]) + f"#r{r.pk}")
    form.focus_first_error()
    return _meeting_page(
        request,
        meeting,
        can_change=True,
        record_form=MeetingRecordForm(meeting=meeting),
        refused=form,
        refused_pk=r.pk,
        status=400,
    )


@login_required
def minutes(request, pk: int):
    meeting = queries.meeting_for(request.user, pk)
    return render(
        request,
        "requests/minutes.html",
        {
            "meeting": meeting,
            "agenda": queries.meeting_agenda(meeting),
            "report_backs": [
                r
                for r in queries.meeting_report_backs(meeting)
                if r.report_meeting_id == meeting.pk
            ],
            "pending": [
                r
                for r in queries.meeting_report_backs(meeting)
                if r.report_meeting_id != meeting.pk
            ],
            "attendees": queries.meeting_attendees(meeting),
            "count": meeting.attendees.count(),
        },
    )


# --------------------------------------------------------------------------- errands


@login_required
def errands(request):
    user = request.user
    by = request.GET.get("by", "grid")
    board = queries.errand_board(user)
    return render(
        request,
        "requests/errands.html",
        {
            "board": board,
            "by": "courier" if by == "courier" else "grid",
            "can_change": scope.has_action(user, scope.CHANGE),
            "mine": queries.courier_errands(user),
        },
    )


@login_required
def errand_new(request):
    user = request.user
    if not scope.has_action(user, scope.CHANGE):
        raise PermissionDenied
    household = _scoped_household(user, request.GET.get("household"))
    form = ErrandForm(request.POST or None, nodes=queries.unit_places(user), household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            errand = services.errand_order(
                actor=user,
                household=data["household"],
                items=parse_items(data["items"]),
                urgency=data["urgency"],
                note=data["note"],
                payment_note=data["payment_note"],
                client_id=data["client_id"],
            )
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Errand ordered."))
            return redirect("requests:errand", pk=errand.pk)
    return render(request, "requests/errand_new.html", {"form": form})


@login_required
def errand_places(request):
    """The errand form's place list narrowed by what was typed in its search box (htmx):
    the units whose address holds every word, as <option>s."""
    if not scope.has_action(request.user, scope.CHANGE):
        raise PermissionDenied
    q = request.GET.get("q", "")[:60]
    units = list(queries.unit_places(request.user, q=q)[: queries.PLACES_SHOWN + 1])
    return render(
        request,
        "requests/_place_options.html",
        {
            "units": [(u.pk, queries.place_address(u)) for u in units[: queries.PLACES_SHOWN]],
            "more": len(units) > queries.PLACES_SHOWN,
            "q": q,
        },
    )


def _errand_forms(errand: Errand, user) -> dict:
    forms: dict = {}
    may_change = scope.can(user, scope.CHANGE, errand)
    courier = queries.is_courier(user, errand)
    status = errand.status
    if may_change:
        if status in ERRAND_MOVES["accept"]:
            forms["accept"] = StepForm()
        if status in ERRAND_MOVES["assign"]:
            forms["assign"] = CourierForm(couriers=queries.courier_choices(user, errand))
        if status in ERRAND_MOVES["confirm"]:
            forms["confirm"] = ConfirmForm()
        if status in ERRAND_MOVES["cancel"]:
            forms["cancel"] = CancelForm()
    if may_change or courier:
        if status in ERRAND_MOVES["pick_up"]:
            forms["pick_up"] = StepForm()
        if status in ERRAND_MOVES["deliver"]:
            forms["deliver"] = DeliverForm()
    return forms


@login_required
def errand_detail(request, pk: int):
    user = request.user
    errand = queries.errand_for(user, pk)
    now = timezone.now()
    due = queries.errand_due_at(errand)
    contact = queries.errand_contact(errand)
    return render(
        request,
        "requests/errand.html",
        {
            "e": errand,
            "items": list(errand.items.all()),
            "forms": _errand_forms(errand, user),
            "photos": list(errand.photos.all()),
            "due": due,
            "overdue": errand.is_open and due < now,
            "history": queries.history(user, errand),
            "is_courier": queries.is_courier(user, errand),
            "contact": contact,
            "can_reveal_household": contact is not None
            and scope.allows(user, scope.REVEAL, contact),
            "can_reveal_courier": errand.courier is not None
            and scope.allows(user, scope.REVEAL, errand.courier),
        },
    )


def _phone_shown(request, subject, whose: str, back: str):
    """One phone in full (roles that may reveal; logged): into the page with htmx, else on a
    small page of its own."""
    try:
        value = services.phone_reveal(user=request.user, subject=subject, whose=whose, via="web")
    except DomainError:  # no such phone here
        raise Http404 from None
    if request.headers.get("HX-Request") == "true":
        return render(request, "geo/_revealed.html", {"value": value, "field": "phone"})
    return render(request, "requests/phone.html", {"value": value, "back": back})


@login_required
@require_POST
def request_phone(request, pk: int):
    r = queries.request_for(request.user, pk)
    return _phone_shown(request, r, "contact", reverse("requests:detail", args=[pk]))


@login_required
@require_POST
def errand_phone(request, pk: int, whose: str):
    errand = queries.errand_for(request.user, pk)
    return _phone_shown(request, errand, whose, reverse("requests:errand", args=[pk]))


ERRAND_DONE = {
    "accept": gettext_lazy("Errand accepted."),
    "assign": gettext_lazy("Courier assigned."),
    "pick_up": gettext_lazy("Marked picked up."),
    "deliver": gettext_lazy("Marked delivered."),
    "confirm": gettext_lazy("Delivery confirmed."),
    "cancel": gettext_lazy("Errand cancelled."),
}


def _errand_act(request, errand: Errand, action: str) -> Errand:
    user, data = request.user, request.POST
    if action == "accept":
        return services.errand_accept(actor=user, errand=errand, client_id=_cid(StepForm(data)))
    if action == "assign":
        form = CourierForm(data, couriers=queries.courier_choices(user, errand))
        if not form.is_valid():
            raise DomainError(_("Choose a courier."), field="courier")
        courier = queries.courier_for(user, form.cleaned_data["courier"])
        return services.errand_assign(actor=user, errand=errand, courier=courier)
    if action == "pick_up":
        return services.errand_pick_up(actor=user, errand=errand, client_id=_cid(StepForm(data)))
    if action == "deliver":
        form = DeliverForm(data, request.FILES)
        form.is_valid()
        photo = form.cleaned_data.get("photo")
        checked = photos_check([photo], field="photo")[0] if photo else None
        return services.errand_deliver(
            actor=user,
            errand=errand,
            code=form.cleaned_data.get("code", ""),
            photo=checked,
            client_id=form.cleaned_data.get("client_id"),
        )
    if action == "confirm":
        form = ConfirmForm(data)
        form.is_valid()
        return services.errand_confirm(
            actor=user,
            errand=errand,
            rating=form.cleaned_data.get("rating"),
            comment=form.cleaned_data.get("comment", ""),
            client_id=form.cleaned_data.get("client_id"),
        )
    if action == "cancel":
        form = CancelForm(data)
        form.is_valid()
        return services.errand_cancel(
            actor=user,
            errand=errand,
            reason=form.cleaned_data.get("reason", ""),
            client_id=form.cleaned_data.get("client_id"),
        )
    raise Http404


@login_required
@require_POST
def errand_act(request, pk: int, action: str):
    if action not in ERRAND_MOVES:
        raise Http404
    user = request.user
    if action in ("pick_up", "deliver"):
        errand = queries.errand_for_courier(user, pk)
    else:
        errand = get_for_change(Errand, user, pk=pk)
    try:
        _errand_act(request, errand, action)
    except DomainError as error:
        _problems(request, error)
    else:
        messages.success(request, str(ERRAND_DONE[action]))
    back = request.POST.get("next", "")
    if back.startswith("/requests/") and not back.startswith("//"):
        return redirect(back)
    return redirect("requests:errand", pk=pk)


@login_required
def courier(request):
    """A courier's own list, phone first: pick up, then deliver with the code or a photo."""
    user = request.user
    rows = queries.courier_errands(user)
    for e in rows:
        e.deliver_form = (
            DeliverForm(auto_id=f"e{e.pk}_%s") if e.status == ErrandStatus.PICKED_UP else None
        )
        e.step_form = StepForm() if e.status == ErrandStatus.ASSIGNED else None
        e.contact = queries.errand_contact(e)
        e.can_reveal = e.contact is not None and scope.allows(user, scope.REVEAL, e.contact)
    return render(
        request,
        "requests/courier.html",
        {
            "rows": rows,
            "delivered_today": queries.courier_delivered_today(user),
            "has_person": hasattr(user, "person"),
        },
    )


# --------------------------------------------------------------------------- household links


@login_required
def links(request):
    """Pick a building; see its households' links, issue them, print the QR sheet."""
    user = request.user
    buildings = Node.objects.restrict(user).filter(level="building").order_by("path")
    building_id = request.GET.get("building", "")
    building = queries.building_for(user, int(building_id)) if building_id.isdigit() else None
    rows = queries.building_links(user, building) if building else []
    return render(
        request,
        "requests/links.html",
        {
            "buildings": buildings[:2000],
            "building": building,
            "rows": rows,
            "active": sum(1 for _h, link in rows if link),
            "sealed": building is not None and services.sealed_at(building),
            "can_change": building is not None and scope.can(user, scope.CHANGE, building),
        },
    )


@login_required
@require_POST
def links_issue(request, building_id: int):
    user = request.user
    building = queries.building_for(user, building_id, scope.CHANGE)
    households = Household.objects.restrict(user, scope.CHANGE).filter(building_id=building.pk)
    made = services.links_issue_many(actor=user, households=households)
    messages.success(request, _("%(n)d links issued.") % {"n": made})
    return redirect(reverse("requests:links") + f"?building={building.pk}")


def link_url(request, link) -> str:
    return request.build_absolute_uri(reverse("requests:home", args=[services.link_token(link)]))


@login_required
def link_detail(request, household_id: int):
    user = request.user
    household = queries.household_for(user, household_id)
    link = queries.active_link(household)
    url = link_url(request, link) if link else ""
    return render(
        request,
        "requests/link.html",
        {
            "household": household,
            "link": link,
            "url": url,
            "svg": qr.svg(url) if url else "",
            "can_change": scope.can(user, scope.CHANGE, household),
        },
    )


@login_required
@require_POST
def link_act(request, household_id: int, action: str):
    user = request.user
    household = get_for_change(Household, user, pk=household_id)
    if action == "issue":
        services.link_issue(actor=user, household=household)
        messages.success(request, _("Link issued."))
    elif action == "renew":
        services.link_issue(actor=user, household=household, renew=True)
        messages.success(request, _("New link issued: the old one no longer works."))
    elif action == "revoke":
        services.link_revoke(actor=user, household=household)
        messages.success(request, _("Link revoked."))
    else:
        raise Http404
    return redirect("requests:link", household_id=household.pk)


@login_required
def link_qr(request, household_id: int):
    household = queries.household_for(request.user, household_id)
    link = queries.active_link(household)
    if link is None:
        raise Http404
    response = HttpResponse(qr.svg(link_url(request, link)), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def link_sheet(request, building_id: int):
    """A printable A4 sheet: one card with a QR code per household that has a link."""
    user = request.user
    building = queries.building_for(user, building_id)
    cards = [
        (h, qr.svg(link_url(request, link)))
        for h, link in queries.building_links(user, building)
        if link
    ]
    response = render(
        request,
        "requests/link_sheet.html",
        {
            "building": building,
            "cards": cards,
            "crumbs": [
                n for n in geo_queries.ancestors(user, building) if n.level in ("community", "grid")
            ],
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response
