"""Pages of mobilization: the reserve pool and dispatch, deployments and recall, the
extra-cadre rule, report-in (the public form and the community's list), places on duty with
their rosters, check-in and check-out, the gaps of tomorrow, the point chief's phone page,
organisations at sites, allowances.

Thin: every row is fetched through the scope (people.queries' access helpers and
core.scope), reads come from people.queries, writes go through people.services. The
forms here only collect input; the services decide."""

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.geo.models import LEVEL_ORDER, Node
from bastion.ledgers.responses import xlsx_response
from bastion.people import queries, services
from bastion.people.models import (
    AllowanceMonth,
    Assignment,
    Availability,
    AvailabilityStatus,
    Deployment,
    DeploymentKind,
    MonthStatus,
    Organisation,
    OrgKind,
    Person,
    Place,
    PlaceKind,
    PostRole,
    ReportIn,
    ReportInStatus,
    Skill,
    Team,
    TeamKind,
    TeamMember,
    mobilization_setting,
)

PER_PAGE = 50
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _node(request, action: str = scope.VIEW) -> Node:
    """The node of ?node= within the user's scope, else the user's first root."""
    if node_id := request.GET.get("node") or request.POST.get("node"):
        return geo_queries.node_for(request.user, node_id, action)
    root = geo_queries.root_nodes(request.user).first()
    if root is None:
        raise Http404
    return root


def _place_context(request, node: Node, url_name: str) -> dict:
    return {
        "node": node,
        "ancestors": geo_queries.ancestors(request.user, node),
        "narrower": list(geo_queries.children(request.user, node).exclude(level="unit")),
        "can_change": scope.can(request.user, scope.CHANGE, node),
        "section": url_name,
    }


def _day(value, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _url(name: str, *args, **query) -> str:
    url = reverse(f"people:{name}", args=args)
    query = {k: v for k, v in query.items() if v not in (None, "")}
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _problems_to_messages(request, error: DomainError) -> None:
    for p in error.problems:
        messages.error(request, p.message)


def _add_problems(form: forms.Form, error: DomainError) -> None:
    """A service's refusal on the field it names, else above the form."""
    for p in error.problems:
        form.add_error(p.field if p.field in form.fields else None, p.message)


def _client_id(request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return None


def _field_nodes(user, node: Node, levels: tuple[str, ...]) -> list[tuple[int, str]]:
    """Nodes of `node`'s subtree (and `node`) at these levels the user may change, labelled
    by their path, for a select."""
    nodes = list(
        Node.objects.restrict(user, scope.CHANGE)
        .filter(path__startswith=node.path, level__in=levels)
        .order_by("path")[:600]
    )
    paths = queries.place_paths(user, nodes)
    return [(n.pk, paths[n.pk] or n.name) for n in nodes]


class NodeChoiceField(forms.TypedChoiceField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, coerce=int, **kwargs)


# --------------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------------


@login_required
def overview(request):
    node = _node(request)
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    cover = queries.extra_cadres(request.user, node, day=today)
    places = list(queries.places_under(request.user, node))
    figures = queries.place_figures(places, today)
    gaps = queries.roster_gaps(request.user, node, tomorrow)
    teams = queries.team_counts(request.user, node)[0]["counts"]
    context = {
        **_place_context(request, node, "mobilization"),
        "pool": queries.pool_summary(request.user, node, today),
        "deployed": queries.deployments_under(request.user, node, day=today).count(),
        "communities": len(cover),
        "short": [c for c in cover if c.short],
        "minimum": mobilization_setting("BASTION_MIN_EXTRA_CADRES"),
        "places": len(places),
        "checked_in": sum(f["checked_in"] for f in figures.values()),
        "rostered": sum(f["rostered"] for f in figures.values()),
        "gaps": len(gaps),
        "tomorrow": tomorrow,
        "pending": queries.report_ins_under(
            request.user, node, status=ReportInStatus.PENDING
        ).count(),
        "teams": sum(t for t, _m in teams.values()),
        "members": sum(m for _t, m in teams.values()),
        "led": list(queries.places_led(request.user)),
        "my_duties": queries.my_duties(request.user),
    }
    return render(request, "people/mobilization/overview.html", context)


# --------------------------------------------------------------------------------------------
# The pool and dispatch
# --------------------------------------------------------------------------------------------


class DispatchForm(forms.Form):
    person = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Persons"),
        coerce=int,
        error_messages={"required": gettext_lazy("Tick the persons to send.")},
    )
    target = forms.ChoiceField(label=gettext_lazy("Send to"))
    kind = forms.ChoiceField(
        label=gettext_lazy("As"), choices=DeploymentKind.choices, initial=DeploymentKind.RESERVE
    )
    starts_on = forms.DateField(
        label=gettext_lazy("From"), widget=DATE_WIDGET, initial=timezone.localdate
    )
    ends_on = forms.DateField(label=gettext_lazy("Until"), widget=DATE_WIDGET)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, targets: list[tuple[str, str]], persons: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—"), *targets]
        self.fields["person"].choices = [(p, p) for p in persons]


def _dispatch_targets(user, node: Node) -> tuple[list[tuple[str, str]], dict]:
    nodes = _field_nodes(user, node, ("community", "grid"))
    places = list(queries.places_under(user, node, action=scope.CHANGE))
    choices = [(f"n{pk}", label) for pk, label in nodes]
    choices += [(f"p{p.pk}", f"{p.get_kind_display()} · {p.name}") for p in places]
    return choices, {"places": {p.pk: p for p in places}}


@login_required
def pool(request):
    """The reserve pool under a node, with a form that sends the ticked persons to a node or
    a place for a period."""
    node = _node(request)
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
    targets, extra = _dispatch_targets(request.user, node)
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
                client_id=_client_id(request),
            )
        except DomainError as error:
            _add_problems(form, error)
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
            return redirect(_url("deployments", node=node.pk))
    skills = queries.skills_of(ids)
    sent = queries.current_deployments(ids, timezone.localdate())
    homes = queries.place_paths(request.user, rows)
    chosen_ids = set(posted)
    return render(
        request,
        "people/mobilization/pool.html",
        {
            **_place_context(request, node, "pool"),
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


class AvailabilityForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Availability"), choices=AvailabilityStatus.choices
    )
    until = forms.DateField(label=gettext_lazy("Until"), required=False, widget=DATE_WIDGET)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("Skills"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
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
                _add_problems(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(_url("person_duty", person.pk))
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
    paths = queries.place_paths(request.user, deployments)
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


# --------------------------------------------------------------------------------------------
# Deployments, recall, the extra-cadre rule
# --------------------------------------------------------------------------------------------


@login_required
def deployments(request):
    node = _node(request)
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
    paths = queries.place_paths(request.user, listed)
    return render(
        request,
        "people/mobilization/deployments.html",
        {
            **_place_context(request, node, "deployments"),
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
        _problems_to_messages(request, error)
    else:
        messages.success(
            request,
            _("%(person)s is recalled from %(node)s.")
            % {"person": deployment.person, "node": deployment.node},
        )
    return redirect(_next(request, _url("deployments", node=deployment.node_id)))


@login_required
def coverage(request):
    """The rule: every community at least N extra cadres on duty (N from the settings)."""
    node = _node(request)
    day = _day(request.GET.get("day"), timezone.localdate())
    rows = queries.extra_cadres(request.user, node, day=day)
    rows.sort(key=lambda r: (-r.short, r.cadres, r.community.path))
    return render(
        request,
        "people/mobilization/coverage.html",
        {
            **_place_context(request, node, "coverage"),
            "rows": rows,
            "day": day,
            "short": [r for r in rows if r.short],
            "minimum": mobilization_setting("BASTION_MIN_EXTRA_CADRES"),
            "max_cadres": max([r.cadres for r in rows] + [1]),
        },
    )


# --------------------------------------------------------------------------------------------
# Report-in: the public form, the QR poster, the community's list
# --------------------------------------------------------------------------------------------


class ReportInForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    employer_name = forms.CharField(label=gettext_lazy("Employer"), max_length=120, required=False)
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("What you can help with"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


def report_in_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def report_in(request):
    """Public, no login: a party member registers with their home community through the link
    of its QR code (?c=...)."""
    token = request.GET.get("c", "")
    community = queries.community_from_token(token)
    form = ReportInForm(request.POST if request.method == "POST" and community else None)
    done = None
    status = 200
    if community is not None and request.method == "POST" and form.is_valid():
        try:
            done, _created = services.report_in_submit(
                community=community,
                **form.cleaned_data,
                source_key=services.report_in_source_key(report_in_address(request)),
            )
        except services.TooManyReports as error:
            form.add_error(None, str(error))
            status = 429
        except DomainError as error:
            _add_problems(form, error)
    street = Node.objects.filter(pk=community.street_id).first() if community else None
    return render(
        request,
        "people/mobilization/report_in.html",
        {
            "community": community,
            "street": street,
            "form": form,
            "done": done,
        },
        status=status,
    )


@login_required
def report_in_qr(request):
    """The printable poster of a community's report-in QR code (for staff who may see it)."""
    node = _node(request)
    communities = []
    if node.level != "community":
        communities = list(
            Node.objects.restrict(request.user)
            .filter(path__startswith=node.path, level="community")
            .order_by("path")
        )
        community = Node.objects.restrict(request.user).filter(pk=node.community_id or 0).first()
        if not communities and community is not None:
            node = community
    link = None
    if node.level == "community":
        link = request.build_absolute_uri(_url("report_in", c=queries.report_in_token(node)))
    return render(
        request,
        "people/mobilization/report_in_qr.html",
        {
            **_place_context(request, node, "report_ins"),
            "communities": communities,
            "link": link,
        },
    )


@login_required
def report_ins(request):
    node = _node(request)
    status = request.GET.get("status", ReportInStatus.PENDING)
    status = status if status in ReportInStatus.values or status == "all" else "pending"
    rows = queries.report_ins_under(request.user, node, status="" if status == "all" else status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    counts = dict(
        queries.report_ins_under(request.user, node)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return render(
        request,
        "people/mobilization/report_ins.html",
        {
            **_place_context(request, node, "report_ins"),
            "page": page,
            "status": status,
            "counts": counts,
            "statuses": [*ReportInStatus.choices, ("all", _("All"))],
            "skill_labels": dict(Skill.choices),
        },
    )


class ConfirmForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Give a post"), required=False)
    post_node = NodeChoiceField(label=gettext_lazy("On"), required=False)
    task = forms.CharField(
        label=gettext_lazy("Or a task"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("e.g. door-knocking in building 3, errands"),
    )

    def __init__(self, *args, nodes: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("No post")), *PostRole.choices]
        self.fields["post_node"].choices = nodes


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why not"), max_length=200)


@login_required
def report_in_decide(request, report_in_id: int):
    """Confirm a registration (with a post or a task) or turn it down."""
    row = scope.get_scoped_or_404(
        ReportIn.objects.select_related("community", "person"), request.user, pk=report_in_id
    )
    may_decide = scope.can(request.user, scope.CHANGE, row)
    nodes = _field_nodes(request.user, row.community, ("community", "grid", "building"))
    action = request.POST.get("action") if request.method == "POST" else None
    confirm = ConfirmForm(request.POST if action == "confirm" else None, nodes=nodes)
    reject = RejectForm(request.POST if action == "reject" else None)
    if action:
        if not may_decide:
            raise PermissionDenied(_("Your role may not change this."))
        form = confirm if action == "confirm" else reject
        if form.is_valid():
            try:
                if action == "confirm":
                    post_node = None
                    if form.cleaned_data.get("post_node"):
                        post_node = geo_queries.node_for(
                            request.user, form.cleaned_data["post_node"], scope.CHANGE
                        )
                    services.report_in_confirm(
                        report_in=row,
                        actor=request.user,
                        role=form.cleaned_data["role"],
                        post_node=post_node,
                        task=form.cleaned_data["task"],
                    )
                    messages.success(request, _("%(name)s is confirmed.") % {"name": row.name})
                else:
                    services.report_in_reject(
                        report_in=row, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                    messages.success(request, _("%(name)s is turned down.") % {"name": row.name})
            except DomainError as error:
                _add_problems(form, error)
            else:
                return redirect(_url("report_ins", node=row.community_id))
    return render(
        request,
        "people/mobilization/report_in_decide.html",
        {
            "row": row,
            "confirm": confirm,
            "reject": reject,
            "may_decide": may_decide,
            "skills": [Skill(s).label for s in row.skills.split(",") if s in Skill.values],
            "section": "report_ins",
        },
    )


# --------------------------------------------------------------------------------------------
# Person search for the forms below (duty candidates: living or sent down here)
# --------------------------------------------------------------------------------------------


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


def _picked(request, field: str = "person", *, day: dt.date | None = None) -> Person | None:
    value = request.POST.get(field, "")
    if not value:
        return None
    return queries.duty_person(request.user, value, day=day)


# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------


@login_required
def places(request):
    node = _node(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in PlaceKind.values else ""
    day = _day(request.GET.get("day"), timezone.localdate())
    rows = list(queries.places_under(request.user, node, kind=kind))
    figures = queries.place_figures(rows, day)
    paths = queries.place_paths(request.user, rows)
    return render(
        request,
        "people/mobilization/places.html",
        {
            **_place_context(request, node, "places"),
            "rows": [
                {
                    "place": p,
                    "path": paths[p.pk],
                    "f": figures[p.pk],
                    "open": services.place_open_on(p, day),
                }
                for p in rows
            ],
            "kinds": PlaceKind.choices,
            "kind": kind,
            "day": day,
        },
    )


class PlaceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=PlaceKind.choices)
    node = NodeChoiceField(label=gettext_lazy("Located in"))
    address = forms.CharField(
        label=gettext_lazy("Address or entrance"), max_length=200, required=False
    )
    required = forms.IntegerField(
        label=gettext_lazy("People a shift"), min_value=1, max_value=50, initial=2
    )
    shifts_per_day = forms.IntegerField(
        label=gettext_lazy("Shifts a day"), min_value=1, max_value=6, initial=3
    )
    shift_hours = forms.IntegerField(
        label=gettext_lazy("Hours a shift"), min_value=1, max_value=24, initial=8
    )
    first_shift_at = forms.TimeField(
        label=gettext_lazy("First shift starts at"),
        initial=dt.time(8, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    closed_on = forms.DateField(label=gettext_lazy("Closed on"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, nodes, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = nodes
        if editing:
            del self.fields["kind"], self.fields["node"]
        else:
            del self.fields["closed_on"]


@login_required
def place_create(request):
    node = _node(request, scope.CHANGE)
    nodes = _field_nodes(request.user, node, ("community", "grid", "building"))
    form = PlaceForm(
        request.POST if request.method == "POST" else None, nodes=nodes, initial={"node": node.pk}
    )
    if form.is_valid():
        data = dict(form.cleaned_data)
        target = geo_queries.node_for(request.user, data.pop("node"), scope.CHANGE)
        try:
            place = services.place_create(
                node=target, chief=_picked(request, "chief"), actor=request.user, **data
            )
        except DomainError as error:
            _add_problems(form, error)
        else:
            messages.success(request, _("%(place)s is set up.") % {"place": place})
            return redirect(_url("place", place.pk))
    return render(
        request,
        "people/mobilization/place_form.html",
        {
            **_place_context(request, node, "places"),
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
            changes["chief"] = _picked(request, "chief")
        elif request.POST.get("no_chief"):
            changes["chief"] = None
        try:
            services.place_update(place=place, actor=request.user, **changes)
        except DomainError as error:
            _add_problems(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(_url("place", place.pk))
    return render(
        request,
        "people/mobilization/place_form.html",
        {
            **_place_context(request, place.node, "places"),
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
    today = timezone.localdate()
    day = _day(request.GET.get("day"), today)
    may_run = queries.may_run(request.user, place)
    rows = _timed(queries.place_roster(place, day))
    now = timezone.now()
    user_id = request.user.pk
    return render(
        request,
        "people/mobilization/place.html",
        {
            **_place_context(request, place.node, "places"),
            "place": place,
            "day": day,
            "today": today,
            "rows": rows,
            "may_run": may_run,
            "may_edit": scope.can(request.user, scope.CHANGE, place),
            "open": services.place_open_on(place, day),
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
    day = _day(request.POST.get("day"), timezone.localdate())
    try:
        services.roster_build(place=place, day=day, actor=request.user)
    except DomainError as error:
        _problems_to_messages(request, error)
    return redirect(_url("place", place.pk, day=day.isoformat()))


@login_required
def shift_assign(request, shift_id: int):
    """Put a person (living or sent down here) on a shift; refusals name the reason."""
    shift = queries.access_shift(request.user, shift_id, act=True)
    error = None
    if request.method == "POST":
        person = _picked(request, day=shift.day)
        if person is None:
            error = _("Choose a person: search by name or mobile.")
        else:
            try:
                services.shift_assign(shift=shift, person=person, actor=request.user)
            except DomainError as e:
                error = " ".join(p.message for p in e.problems)
            else:
                messages.success(request, _("%(person)s is on the shift.") % {"person": person})
                return redirect(_url("place", shift.place_id, day=shift.day.isoformat()))
    text = request.GET.get("q", "")
    return render(
        request,
        "people/mobilization/shift_assign.html",
        {
            **_place_context(request, shift.place.node, "places"),
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
            **_place_context(request, shift.place.node, "places"),
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
    return _next(
        request, _url("place", assignment.shift.place_id, day=assignment.shift.day.isoformat())
    )


@login_required
@require_POST
def assignment_remove(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    back = _url("place", assignment.shift.place_id, day=assignment.shift.day.isoformat())
    try:
        services.assignment_remove(assignment=assignment, actor=request.user)
    except DomainError as error:
        _problems_to_messages(request, error)
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
        return redirect(_url("assignment", assignment.pk))
    other = queries.access_assignment(request.user, other_id, act=True)
    try:
        services.assignment_swap(assignment=assignment, other=other, actor=request.user)
    except DomainError as error:
        _problems_to_messages(request, error)
        return redirect(_url("assignment", assignment.pk))
    messages.success(
        request, _("%(a)s and %(b)s swapped shifts.") % {"a": assignment.person, "b": other.person}
    )
    return redirect(_back_to_place(request, assignment))


@login_required
@require_POST
def assignment_transfer(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    person = _picked(request, day=assignment.shift.day)
    if person is None:
        messages.error(request, _("Choose a person: search by name or mobile."))
        return redirect(_url("assignment", assignment.pk))
    try:
        services.assignment_transfer(assignment=assignment, person=person, actor=request.user)
    except DomainError as error:
        _problems_to_messages(request, error)
        return redirect(_url("assignment", assignment.pk))
    messages.success(request, _("The shift is now %(person)s's.") % {"person": person})
    return redirect(_back_to_place(request, assignment))


@login_required
@require_POST
def check_in(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True, own=True)
    try:
        event = services.duty_check_in(
            assignment=assignment, actor=request.user, client_id=_client_id(request)
        )
    except DomainError as error:
        _problems_to_messages(request, error)
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
            client_id=_client_id(request),
        )
    except DomainError as error:
        _problems_to_messages(request, error)
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
    node = _node(request)
    day = _day(request.GET.get("day"), timezone.localdate() + dt.timedelta(days=1))
    found = queries.roster_gaps(request.user, node, day)
    by_place: dict[int, dict] = {}
    for g in found:
        by_place.setdefault(g.place.pk, {"place": g.place, "gaps": []})["gaps"].append(g)
    paths = queries.place_paths(request.user, [v["place"] for v in by_place.values()])
    return render(
        request,
        "people/mobilization/gaps.html",
        {
            **_place_context(request, node, "gaps"),
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
    today = timezone.localdate()
    now = timezone.now()
    led = []
    for place in queries.places_led(request.user):
        day = today
        rows = _timed(queries.place_roster(place, day))
        if (
            not any(r.current for r in rows)
            and timezone.localtime(now).time() < place.first_shift_at
        ):
            day = today - dt.timedelta(days=1)
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


# --------------------------------------------------------------------------------------------
# Organisations at sites
# --------------------------------------------------------------------------------------------


@login_required
def teams(request):
    node = _node(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in TeamKind.values else ""
    rows = list(queries.teams_under(request.user, node, kind=kind))
    counts = queries.team_counts(request.user, node)
    paths = queries.place_paths(request.user, rows)
    return render(
        request,
        "people/mobilization/teams.html",
        {
            **_place_context(request, node, "teams"),
            "rows": [{"team": t, "path": paths[t.pk]} for t in rows],
            "kinds": TeamKind.choices,
            "kind": kind,
            "counts": [
                {"node": c["node"], "cells": [c["counts"][k] for k in TeamKind.values]}
                for c in counts
            ],
        },
    )


class TeamForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TeamKind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    where = forms.ChoiceField(label=gettext_lazy("Where"))
    formed_on = forms.DateField(
        label=gettext_lazy("Formed on"), widget=DATE_WIDGET, initial=timezone.localdate
    )

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["where"].choices = targets


@login_required
def team_create(request):
    node = _node(request, scope.CHANGE)
    targets, extra = _dispatch_targets(request.user, node)
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
            _add_problems(form, error)
            if any(p.field == "place" for p in error.problems):
                form.add_error("where", error.problems[0].message)
        else:
            messages.success(request, _("%(team)s is set up.") % {"team": team})
            return redirect(_url("team", team.pk))
    return render(
        request,
        "people/mobilization/team_form.html",
        {
            **_place_context(request, node, "teams"),
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
        person = _picked(request)
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
                return redirect(_url("team", team.pk))
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
            **_place_context(request, team.node, "teams"),
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
        _problems_to_messages(request, error)
    else:
        messages.success(request, _("%(person)s left.") % {"person": member.person})
    return redirect(_url("team", team.pk))


# --------------------------------------------------------------------------------------------
# Allowances
# --------------------------------------------------------------------------------------------


class MonthForm(forms.Form):
    month = forms.DateField(
        label=gettext_lazy("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    payer = forms.TypedChoiceField(
        label=gettext_lazy("Paying body"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("Pays those without an employer."),
    )

    def __init__(self, *args, payers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"].choices = [("", "—"), *payers]


def _payers(user, node: Node) -> list[tuple[int, str]]:
    """Government bodies that may pay: those the user may see, and those standing on the
    node's ancestors (the district's bureaus, the street office)."""
    above = Q(pk__in=[])
    for level, deeper in zip(LEVEL_ORDER, LEVEL_ORDER[1:], strict=False):
        if (pk := getattr(node, f"{level}_id")) and level != node.level:
            above |= Q(**{f"{level}_id": pk, f"{deeper}_id": None})
    orgs = Organisation.objects.filter(kind=OrgKind.GOVERNMENT).filter(scope.scope_q(user) | above)
    return list(orgs.order_by("name").values_list("pk", "name")[:300])


@login_required
def allowances(request):
    node = _node(request)
    payers = _payers(request.user, node)
    form = MonthForm(
        request.POST if request.method == "POST" else None,
        payers=payers,
        initial={"month": timezone.localdate().replace(day=1)},
    )
    if request.method == "POST":
        node = _node(request, scope.CHANGE)
        if form.is_valid():
            payer_id = form.cleaned_data["payer"]
            payer = (
                Organisation.objects.filter(pk=payer_id).first()
                if payer_id and payer_id in dict(payers)
                else None
            )
            try:
                month = services.allowance_month_open(
                    node=node, month=form.cleaned_data["month"], payer=payer, actor=request.user
                )
            except DomainError as error:
                _add_problems(form, error)
            else:
                return redirect(_url("allowance_month", month.pk))
    months = list(queries.months_under(request.user, node))
    totals = {m.pk: queries.month_ledger(m)["total"] for m in months[:24]}
    return render(
        request,
        "people/mobilization/allowances.html",
        {
            **_place_context(request, node, "allowances"),
            "months": [{"m": m, "total": totals.get(m.pk)} for m in months],
            "form": form,
        },
    )


def _month(request, month_id: int, action: str = scope.VIEW) -> AllowanceMonth:
    return scope.get_scoped_or_404(
        AllowanceMonth.objects.select_related("node", "payer"), request.user, action, pk=month_id
    )


@login_required
@require_GET
def allowance_month(request, month_id: int):
    month = _month(request, month_id)
    ledger = queries.month_ledger(month)
    may_edit = month.status == MonthStatus.OPEN and scope.can(request.user, scope.CHANGE, month)
    text = request.GET.get("q", "")
    first, last = services.month_bounds(month.month)
    return render(
        request,
        "people/mobilization/allowance_month.html",
        {
            **_place_context(request, month.node, "allowances"),
            "month": month,
            "ledger": ledger,
            "may_edit": may_edit,
            "rates": [
                {"r": r, "label": services.rate_label(r.key)}
                for r in month.rates.order_by("unit", "key")
            ],
            "awards": list(month.awards.select_related("person").order_by("awarded_on", "pk")),
            "q": text,
            "persons": list(queries.duty_candidates(request.user, text)),
            "over": last < timezone.localdate(),
            "first": first,
            "last": last,
            "rate_keys": [(k, services.rate_label(k)) for k in services.rate_keys()],
        },
    )


def _month_action(request, month_id: int, action) -> HttpResponse:
    month = _month(request, month_id, scope.CHANGE)
    try:
        action(month)
    except DomainError as error:
        _problems_to_messages(request, error)
    return redirect(_url("allowance_month", month.pk))


@login_required
@require_POST
def allowance_rate(request, month_id: int):
    def act(month):
        services.allowance_rate_set(
            month=month,
            key=request.POST.get("key", ""),
            amount=request.POST.get("amount", ""),
            actor=request.user,
        )
        messages.success(request, _("Rate saved."))

    return _month_action(request, month_id, act)


@login_required
@require_POST
def allowance_award(request, month_id: int):
    def act(month):
        person = _picked(request)
        if person is None:
            raise DomainError(_("Choose a person: search by name or mobile."), field="person")
        services.award_grant(
            month=month,
            person=person,
            title=request.POST.get("title", ""),
            amount=request.POST.get("amount", "") or "0",
            actor=request.user,
        )
        messages.success(request, _("Award given to %(person)s.") % {"person": person})

    return _month_action(request, month_id, act)


@login_required
@require_POST
def allowance_compute(request, month_id: int):
    def act(month):
        n = services.allowance_month_compute(month=month, actor=request.user)
        messages.success(request, _("Recomputed: %(n)d lines.") % {"n": n})

    return _month_action(request, month_id, act)


@login_required
@require_POST
def allowance_close(request, month_id: int):
    def act(month):
        services.allowance_month_close(month=month, actor=request.user)
        messages.success(request, _("The month is closed."))

    return _month_action(request, month_id, act)


@login_required
@require_GET
def allowance_export(request, month_id: int):
    month = _month(request, month_id)
    content, filename = services.allowance_export(month=month)
    return xlsx_response(content, filename)
