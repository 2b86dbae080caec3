"""Pages of places on duty: the list, a place and its roster, assigning, swapping and
transferring duties, check-in and check-out, tomorrow's gaps, the point chief's phone page."""

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.people import queries as people_queries
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.forms import PlaceForm
from bastion.people.mobilization.models import (
    Assignment,
    Place,
    PlaceKind,
    mobilization_setting,
)
from bastion.people.mobilization.views.common import (
    add_problems,
    client_id_of,
    day_of,
    field_nodes,
    next_url,
    node_asked,
    page_url,
    picked_person,
    problems_to_messages,
    section_context,
)


@login_required
def person_pick(request):
    name = request.GET.get("name", "person")
    name = name if name in ("person", "chief") else "person"
    text = request.GET.get("q", "")
    persons = list(queries.duty_candidates(request.user, text))
    return render(
        request,
        "people/mobilization/_person_pick.html",
        {"persons": persons, "q": text, "field_name": name},
    )


@login_required
def places(request):
    node = node_asked(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in PlaceKind.values else ""
    day = day_of(request.GET.get("day"), None)  # none asked: each place's duty day now
    rows = list(queries.places_under(request.user, node, kind=kind))
    figures = queries.place_figures(rows, day)
    now = timezone.now()
    paths = people_queries.place_paths(request.user, rows)
    return render(
        request,
        "people/mobilization/places.html",
        {
            **section_context(request, node, "places"),
            "rows": [
                {
                    "place": p,
                    "path": paths[p.pk],
                    "f": figures[p.pk],
                    "open": p.open_on(day or p.duty_day(now)),
                    "day": day or p.duty_day(now),
                }
                for p in rows
            ],
            "kinds": PlaceKind.choices,
            "kind": kind,
            "day": day,
        },
    )


@login_required
def place_create(request):
    node = node_asked(request, scope.CHANGE)
    nodes = field_nodes(request.user, node, ("community", "grid", "building"))
    form = PlaceForm(
        request.POST if request.method == "POST" else None, nodes=nodes, initial={"node": node.pk}
    )
    if form.is_valid():
        data = dict(form.cleaned_data)
        target = geo_queries.node_for(request.user, data.pop("node"), scope.CHANGE)
        try:
            place = services.place_create(
                node=target, chief=picked_person(request, "chief"), actor=request.user, **data
            )
        except DomainError as error:
            add_problems(form, error)
        else:
            messages.success(request, _("%(place)s is set up.") % {"place": place})
            return redirect(page_url("place", place.pk))
    return render(
        request,
        "people/mobilization/place_form.html",
        {
            **section_context(request, node, "places"),
            "form": form,
            "place": None,
            "q": request.GET.get("q", ""),
            "persons": list(queries.duty_candidates(request.user, request.GET.get("q", ""))),
        },
    )


@login_required
def place_edit(request, place_id: int):
    place = scope.get_scoped_or_404(
        Place.objects.select_related("node", "chief"), request.user, scope.CHANGE, pk=place_id
    )
    initial = {
        f: getattr(place, f)
        for f in (
            "name",
            "address",
            "required",
            "shifts_per_day",
            "shift_hours",
            "first_shift_at",
            "closed_on",
        )
    }
    form = PlaceForm(
        request.POST if request.method == "POST" else None, nodes=[], editing=True, initial=initial
    )
    if form.is_valid():
        changes = dict(form.cleaned_data)
        if request.POST.get("chief"):
            changes["chief"] = picked_person(request, "chief")
        elif request.POST.get("no_chief"):
            changes["chief"] = None
        try:
            services.place_update(place=place, actor=request.user, **changes)
        except DomainError as error:
            add_problems(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(page_url("place", place.pk))
    return render(
        request,
        "people/mobilization/place_form.html",
        {
            **section_context(request, place.node, "places"),
            "form": form,
            "place": place,
            "q": request.GET.get("q", ""),
            "persons": list(queries.duty_candidates(request.user, request.GET.get("q", ""))),
        },
    )


def _timed(rows: list) -> list:
    """Mark each shift row: now on, over, open for check-in."""
    now = timezone.now()
    early = dt.timedelta(minutes=mobilization_setting("BASTION_CHECK_IN_EARLY_MINUTES"))
    for row in rows:
        row.current = row.shift.starts_at <= now < row.shift.ends_at
        row.over = row.shift.ends_at <= now
        row.check_in_open = row.shift.starts_at - early <= now < row.shift.ends_at
    return rows


@login_required
@require_GET
def place_detail(request, place_id: int):
    """A place's roster of a day: its shifts, who is on them, check-ins and check-outs, the
    handover notes of the shift before."""
    place = queries.access_place(request.user, place_id)
    today = place.duty_day()
    day = day_of(request.GET.get("day"), today)
    may_run = queries.may_run(request.user, place)
    rows = _timed(queries.place_roster(place, day))
    now = timezone.now()
    user_id = request.user.pk
    return render(
        request,
        "people/mobilization/place.html",
        {
            **section_context(request, place.node, "places"),
            "place": place,
            "day": day,
            "today": today,
            "rows": rows,
            "may_run": may_run,
            "may_edit": scope.can(request.user, scope.CHANGE, place),
            "open": place.open_on(day),
            "expected": place.shifts_per_day,
            "now": now,
            "prev_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "client_id": uuid.uuid4,
            "user_id": user_id,
            "history": geo_queries.change_history(request.user, place)[:20],
        },
    )


@login_required
@require_POST
def roster_build(request, place_id: int):
    place = queries.access_place(request.user, place_id, act=True)
    day = day_of(request.POST.get("day"), timezone.localdate())
    try:
        services.roster_build(place=place, day=day, actor=request.user)
    except DomainError as error:
        problems_to_messages(request, error)
    return redirect(page_url("place", place.pk, day=day.isoformat()))


@login_required
def shift_assign(request, shift_id: int):
    """Put a person (living or sent down here) on a shift; refusals name the reason."""
    shift = queries.access_shift(request.user, shift_id, act=True)
    error = None
    if request.method == "POST":
        person = picked_person(request, day=shift.day)
        if person is None:
            error = _("Choose a person: search by name or mobile.")
        else:
            try:
                services.shift_assign(shift=shift, person=person, actor=request.user)
            except DomainError as e:
                error = " ".join(p.message for p in e.problems)
            else:
                messages.success(request, _("%(person)s is on the shift.") % {"person": person})
                return redirect(page_url("place", shift.place_id, day=shift.day.isoformat()))
    text = request.GET.get("q", "")
    return render(
        request,
        "people/mobilization/shift_assign.html",
        {
            **section_context(request, shift.place.node, "places"),
            "shift": shift,
            "place": shift.place,
            "error": error,
            "q": text,
            "persons": list(queries.duty_candidates(request.user, text, day=shift.day)),
            "on_shift": list(shift.assignments.select_related("person")),
        },
    )


@login_required
def assignment_page(request, assignment_id: int):
    """Change one rostered duty: give it to someone else, swap it, or take it away."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    shift = assignment.shift
    others = list(
        Assignment.objects.restrict(request.user)
        .filter(
            shift__place=shift.place,
            shift__day__gte=shift.day - dt.timedelta(days=2),
            shift__day__lte=shift.day + dt.timedelta(days=7),
            starts_at__gt=timezone.now(),
        )
        .exclude(person=assignment.person)
        .exclude(shift=shift)
        .select_related("person", "shift")
        .order_by("starts_at", "person__name")[:80]
    )
    text = request.GET.get("q", "")
    return render(
        request,
        "people/mobilization/assignment.html",
        {
            **section_context(request, shift.place.node, "places"),
            "a": assignment,
            "shift": shift,
            "place": shift.place,
            "others": others,
            "q": text,
            "persons": list(queries.duty_candidates(request.user, text, day=shift.day)),
            "history": geo_queries.change_history(request.user, assignment)[:10],
        },
    )


def _back_to_place(request, assignment) -> str:
    return next_url(
        request, page_url("place", assignment.shift.place_id, day=assignment.shift.day.isoformat())
    )


@login_required
@require_POST
def assignment_remove(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    back = page_url("place", assignment.shift.place_id, day=assignment.shift.day.isoformat())
    try:
        services.assignment_remove(assignment=assignment, actor=request.user)
    except DomainError as error:
        problems_to_messages(request, error)
    else:
        messages.success(request, _("%(person)s is off the shift.") % {"person": assignment.person})
    return redirect(back)


@login_required
@require_POST
def assignment_swap(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    other_id = request.POST.get("other", "")
    if not other_id:
        messages.error(request, _("Choose the shift to swap with."))
        return redirect(page_url("assignment", assignment.pk))
    other = queries.access_assignment(request.user, other_id, act=True)
    try:
        services.assignment_swap(assignment=assignment, other=other, actor=request.user)
    except DomainError as error:
        problems_to_messages(request, error)
        return redirect(page_url("assignment", assignment.pk))
    messages.success(
        request, _("%(a)s and %(b)s swapped shifts.") % {"a": assignment.person, "b": other.person}
    )
    return redirect(_back_to_place(request, assignment))


@login_required
@require_POST
def assignment_transfer(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    person = picked_person(request, day=assignment.shift.day)
    if person is None:
        messages.error(request, _("Choose a person: search by name or mobile."))
        return redirect(page_url("assignment", assignment.pk))
    try:
        services.assignment_transfer(assignment=assignment, person=person, actor=request.user)
    except DomainError as error:
        problems_to_messages(request, error)
        return redirect(page_url("assignment", assignment.pk))
    messages.success(request, _("The shift is now %(person)s's.") % {"person": person})
    return redirect(_back_to_place(request, assignment))


@login_required
@require_POST
def check_in(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True, own=True)
    try:
        event = services.duty_check_in(
            assignment=assignment, actor=request.user, client_id=client_id_of(request)
        )
    except DomainError as error:
        problems_to_messages(request, error)
    else:
        messages.success(
            request,
            _("%(person)s checked in at %(at)s.")
            % {"person": assignment.person, "at": timezone.localtime(event.at).strftime("%H:%M")},
        )
    return redirect(_back_to_place(request, assignment))


@login_required
@require_POST
def check_out(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True, own=True)
    try:
        event = services.duty_check_out(
            assignment=assignment,
            actor=request.user,
            note=request.POST.get("note", ""),
            client_id=client_id_of(request),
        )
    except DomainError as error:
        problems_to_messages(request, error)
    else:
        messages.success(
            request,
            _("%(person)s checked out at %(at)s.")
            % {"person": assignment.person, "at": timezone.localtime(event.at).strftime("%H:%M")},
        )
    return redirect(_back_to_place(request, assignment))


@login_required
def gaps(request):
    """The shifts of a day (tomorrow) short of people or not built yet."""
    node = node_asked(request)
    day = day_of(request.GET.get("day"), timezone.localdate() + dt.timedelta(days=1))
    found = queries.roster_gaps(request.user, node, day)
    by_place: dict[int, dict] = {}
    for g in found:
        by_place.setdefault(g.place.pk, {"place": g.place, "gaps": []})["gaps"].append(g)
    paths = people_queries.place_paths(request.user, [v["place"] for v in by_place.values()])
    return render(
        request,
        "people/mobilization/gaps.html",
        {
            **section_context(request, node, "gaps"),
            "day": day,
            "groups": [{**v, "path": paths[k]} for k, v in by_place.items()],
            "count": len(found),
            "missing": sum(g.missing for g in found),
            "prev_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
    )


@login_required
def my_duty(request):
    """The phone page of someone on duty or a point chief: their own shifts, and the
    current roster of each place they lead, with check-in and check-out at hand."""
    now = timezone.now()
    led = []
    for place in queries.places_led(request.user):
        day = place.duty_day(now)
        rows = _timed(queries.place_roster(place, day))
        led.append({"place": place, "rows": rows, "day": day})
    early = dt.timedelta(minutes=mobilization_setting("BASTION_CHECK_IN_EARLY_MINUTES"))
    mine = queries.my_duties(request.user)
    for d in mine:
        d.check_in_open = d.assignment.starts_at - early <= now < d.assignment.ends_at
        d.opens_at = d.assignment.starts_at - early
    return render(
        request,
        "people/mobilization/my_duty.html",
        {
            "mine": mine,
            "led": led,
            "now": now,
            "client_id": uuid.uuid4,
            "section": "my_duty",
            "user_id": request.user.pk,
        },
    )
