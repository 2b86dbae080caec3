"""Pages of the reserve pool and dispatch, a person's duty, deployments, recall and the
extra-cadre rule."""

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.people import queries as people_queries
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.forms import AvailabilityForm, DispatchForm
from bastion.people.mobilization.models import (
    Assignment,
    Availability,
    AvailabilityStatus,
    Deployment,
    DeploymentKind,
    Skill,
    TeamMember,
    mobilization_setting,
)
from bastion.people.mobilization.views.common import (
    PER_PAGE,
    add_problems,
    client_id_of,
    day_of,
    dispatch_targets,
    next_url,
    node_asked,
    page_url,
    problems_to_messages,
    section_context,
)
from bastion.people.models import Person


@login_required
def pool(request):
    """The reserve pool under a node, with a form that sends the ticked persons to a node or
    a place for a period."""
    node = node_asked(request)
    skill = request.GET.get("skill", "")
    skill = skill if skill in Skill.values else ""
    availability = request.GET.get("availability", "")
    if availability not in [*AvailabilityStatus.values, "deployed"]:
        availability = ""
    text = request.GET.get("q", "")
    persons = queries.pool(request.user, node, skill=skill, availability=availability, text=text)
    page = Paginator(persons, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    ids = [p.pk for p in rows]
    targets, extra = dispatch_targets(request.user, node)
    data = request.POST if request.method == "POST" else None
    posted = [int(i) for i in request.POST.getlist("person") if i.isdigit()] if data else []
    form = DispatchForm(
        data,
        targets=targets,
        persons=ids + posted,
        initial={"ends_on": timezone.localdate() + dt.timedelta(days=13)},
    )
    if data is not None and form.is_valid():
        chosen = list(
            Person.objects.restrict(request.user).filter(pk__in=form.cleaned_data["person"])
        )
        target = form.cleaned_data["target"]
        place = target_node = None
        if target.startswith("p"):
            place = extra["places"].get(int(target[1:]))
        else:
            target_node = geo_queries.node_for(request.user, target[1:], scope.CHANGE)
        try:
            dispatch = services.dispatch_create(
                persons=chosen,
                kind=form.cleaned_data["kind"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                node=target_node,
                place=place,
                note=form.cleaned_data["note"],
                actor=request.user,
                client_id=client_id_of(request),
            )
        except DomainError as error:
            add_problems(form, error)
        else:
            messages.success(
                request,
                _("%(n)d sent to %(node)s from %(start)s to %(end)s.")
                % {
                    "n": len(chosen),
                    "node": dispatch.node.name,
                    "start": dispatch.starts_on,
                    "end": dispatch.ends_on,
                },
            )
            return redirect(page_url("deployments", node=node.pk))
    skills = queries.skills_of(ids)
    sent = queries.current_deployments(ids, timezone.localdate())
    homes = people_queries.place_paths(request.user, rows)
    chosen_ids = set(posted)
    return render(
        request,
        "people/mobilization/pool.html",
        {
            **section_context(request, node, "pool"),
            "page": page,
            "rows": [
                {
                    "person": p,
                    "home": homes[p.pk],
                    "skills": [Skill(s).label for s in skills.get(p.pk, [])],
                    "sent": sent.get(p.pk),
                    "checked": p.pk in chosen_ids,
                }
                for p in rows
            ],
            "summary": queries.pool_summary(request.user, node),
            "skills": Skill.choices,
            "skill": skill,
            "availabilities": AvailabilityStatus.choices,
            "availability": availability,
            "q": text,
            "form": form,
            "client_id": uuid.uuid4(),
            "can_dispatch": bool(targets),
        },
    )


@login_required
def person_duty(request, person_id: int):
    """One person's mobilization: availability and skills (editable with change scope),
    where they have been sent, their shifts around today, their teams."""
    person = queries.duty_person(request.user, person_id)
    may_edit = scope.can(request.user, scope.CHANGE, person)
    row = Availability.objects.filter(person=person).first()
    initial = {
        "status": row.status if row else AvailabilityStatus.AVAILABLE,
        "until": row.until if row else None,
        "note": row.note if row else "",
        "skills": list(person.skills.values_list("skill", flat=True)),
    }
    form = AvailabilityForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("Your role may not change this."))
        if form.is_valid():
            try:
                services.availability_set(person=person, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                add_problems(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(page_url("person_duty", person.pk))
    today = timezone.localdate()
    deployments = list(
        Deployment.objects.restrict(request.user)
        .filter(person=person)
        .select_related("node", "place")
        .order_by("-starts_on", "-id")[:50]
    )
    changeable = set(
        Deployment.objects.restrict(request.user, scope.CHANGE)
        .filter(pk__in=[d.pk for d in deployments])
        .values_list("pk", flat=True)
    )
    shifts = list(
        Assignment.objects.restrict(request.user)
        .filter(person=person, starts_at__gte=timezone.now() - dt.timedelta(days=14))
        .select_related("shift__place")
        .order_by("starts_at")[:60]
    )
    teams = list(
        TeamMember.objects.restrict(request.user)
        .filter(person=person, left_on__isnull=True)
        .select_related("team")
    )
    paths = people_queries.place_paths(request.user, deployments)
    return render(
        request,
        "people/mobilization/person.html",
        {
            "person": person,
            "form": form,
            "may_edit": may_edit,
            "today": today,
            "deployments": [
                {
                    "d": d,
                    "path": paths[d.pk],
                    "can_recall": d.pk in changeable
                    and d.recalled_on is None
                    and d.ends_on >= today,
                }
                for d in deployments
            ],
            "shifts": shifts,
            "teams": teams,
            "section": "pool",
        },
    )


@login_required
def deployments(request):
    node = node_asked(request)
    state = request.GET.get("state", "active")
    state = state if state in ("active", "upcoming", "ended", "all") else "active"
    kind = request.GET.get("kind", "")
    kind = kind if kind in DeploymentKind.values else ""
    text = request.GET.get("q", "")
    rows = queries.deployments_under(request.user, node, state=state, kind=kind, text=text)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    listed = list(page.object_list)
    changeable = set(
        Deployment.objects.restrict(request.user, scope.CHANGE)
        .filter(pk__in=[d.pk for d in listed])
        .values_list("pk", flat=True)
    )
    today = timezone.localdate()
    paths = people_queries.place_paths(request.user, listed)
    return render(
        request,
        "people/mobilization/deployments.html",
        {
            **section_context(request, node, "deployments"),
            "page": page,
            "state": state,
            "kind": kind,
            "q": text,
            "today": today,
            "kinds": DeploymentKind.choices,
            "states": [
                ("active", _("On duty today")),
                ("upcoming", _("To come")),
                ("ended", _("Ended")),
                ("all", _("All")),
            ],
            "rows": [
                {
                    "d": d,
                    "path": paths[d.pk],
                    "can_recall": d.pk in changeable
                    and d.recalled_on is None
                    and d.ends_on >= today,
                }
                for d in listed
            ],
        },
    )


@login_required
@require_POST
def deployment_recall(request, deployment_id: int):
    deployment = scope.get_scoped_or_404(
        Deployment.objects.select_related("person", "node"),
        request.user,
        scope.CHANGE,
        pk=deployment_id,
    )
    try:
        services.deployment_recall(
            deployment=deployment, reason=request.POST.get("reason", ""), actor=request.user
        )
    except DomainError as error:
        problems_to_messages(request, error)
    else:
        messages.success(
            request,
            _("%(person)s is recalled from %(node)s.")
            % {"person": deployment.person, "node": deployment.node},
        )
    return redirect(next_url(request, page_url("deployments", node=deployment.node_id)))


@login_required
def coverage(request):
    """The rule: every community at least N extra cadres on duty (N from the settings)."""
    node = node_asked(request)
    day = day_of(request.GET.get("day"), timezone.localdate())
    rows = queries.extra_cadres(request.user, node, day=day)
    rows.sort(key=lambda r: (-r.short, r.cadres, r.community.path))
    return render(
        request,
        "people/mobilization/coverage.html",
        {
            **section_context(request, node, "coverage"),
            "rows": rows,
            "day": day,
            "short": [r for r in rows if r.short],
            "minimum": mobilization_setting("BASTION_MIN_EXTRA_CADRES"),
            "max_cadres": max([r.cadres for r in rows] + [1]),
        },
    )
