"""Pages of organisations at sites: teams and their members."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.people import queries as people_queries
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.forms import TeamForm
from bastion.people.mobilization.models import (
    Team,
    TeamKind,
    TeamMember,
)
from bastion.people.mobilization.views.common import (
    add_problems,
    dispatch_targets,
    node_asked,
    page_url,
    picked_person,
    problems_to_messages,
    section_context,
)


@login_required
def teams(request):
    node = node_asked(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in TeamKind.values else ""
    rows = list(queries.teams_under(request.user, node, kind=kind))
    counts = queries.team_counts(request.user, node)
    paths = people_queries.place_paths(request.user, rows)
    return render(
        request,
        "people/mobilization/teams.html",
        {
            **section_context(request, node, "teams"),
            "rows": [{"team": t, "path": paths[t.pk]} for t in rows],
            "kinds": TeamKind.choices,
            "kind": kind,
            "counts": [
                {"node": c["node"], "cells": [c["counts"][k] for k in TeamKind.values]}
                for c in counts
            ],
        },
    )


@login_required
def team_create(request):
    node = node_asked(request, scope.CHANGE)
    targets, extra = dispatch_targets(request.user, node)
    form = TeamForm(
        request.POST if request.method == "POST" else None,
        targets=targets,
        initial={"kind": request.GET.get("kind", TeamKind.BRANCH)},
    )
    if form.is_valid():
        where = form.cleaned_data["where"]
        place = extra["places"].get(int(where[1:])) if where.startswith("p") else None
        target = None if place else geo_queries.node_for(request.user, where[1:], scope.CHANGE)
        try:
            team = services.team_create(
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                node=target,
                place=place,
                formed_on=form.cleaned_data["formed_on"],
                actor=request.user,
            )
        except DomainError as error:
            add_problems(form, error)
            if any(p.field == "place" for p in error.problems):
                form.add_error("where", error.problems[0].message)
        else:
            messages.success(request, _("%(team)s is set up.") % {"team": team})
            return redirect(page_url("team", team.pk))
    return render(
        request,
        "people/mobilization/team_form.html",
        {
            **section_context(request, node, "teams"),
            "form": form,
        },
    )


@login_required
def team_detail(request, team_id: int):
    team = scope.get_scoped_or_404(
        Team.objects.select_related("node", "place", "organisation"), request.user, pk=team_id
    )
    may_edit = scope.can(request.user, scope.CHANGE, team)
    error = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("Your role may not change this."))
        person = picked_person(request)
        if person is None:
            error = _("Choose a person: search by name or mobile.")
        else:
            try:
                services.team_member_add(
                    team=team,
                    person=person,
                    title=request.POST.get("title", ""),
                    actor=request.user,
                )
            except DomainError as e:
                error = " ".join(p.message for p in e.problems)
            else:
                messages.success(request, _("%(person)s joined.") % {"person": person})
                return redirect(page_url("team", team.pk))
    members = list(
        team.members.filter(left_on__isnull=True)
        .select_related("person")
        .order_by("-title", "person__name")
    )
    text = request.GET.get("q", "")
    return render(
        request,
        "people/mobilization/team.html",
        {
            **section_context(request, team.node, "teams"),
            "team": team,
            "members": members,
            "may_edit": may_edit,
            "error": error,
            "q": text,
            "persons": list(queries.duty_candidates(request.user, text)),
        },
    )


@login_required
@require_POST
def team_member_remove(request, team_id: int, person_id: int):
    team = scope.get_scoped_or_404(Team, request.user, scope.CHANGE, pk=team_id)
    member = scope.get_scoped_or_404(
        TeamMember.objects.filter(team=team, left_on__isnull=True).select_related("person"),
        request.user,
        scope.CHANGE,
        person_id=person_id,
    )
    try:
        services.team_member_remove(member=member, actor=request.user)
    except DomainError as error:
        problems_to_messages(request, error)
    else:
        messages.success(request, _("%(person)s left.") % {"person": member.person})
    return redirect(page_url("team", team.pk))
