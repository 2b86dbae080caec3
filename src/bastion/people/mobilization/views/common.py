"""What the mobilization pages share: the node asked for, the section's context, safe
redirects, a service's refusal shown on the form."""

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.http import Http404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.geo.models import Node
from bastion.people import queries as people_queries
from bastion.people.mobilization import queries
from bastion.people.models import Person

PER_PAGE = 50


def node_asked(request, action: str = scope.VIEW) -> Node:
    """The node of ?node= within the user's scope, else the user's first root."""
    if node_id := request.GET.get("node") or request.POST.get("node"):
        return geo_queries.node_for(request.user, node_id, action)
    root = geo_queries.root_nodes(request.user).first()
    if root is None:
        raise Http404
    return root


def section_context(request, node: Node, url_name: str) -> dict:
    return {
        "node": node,
        "ancestors": geo_queries.ancestors(request.user, node),
        "narrower": list(geo_queries.children(request.user, node).exclude(level="unit")),
        "can_change": scope.can(request.user, scope.CHANGE, node),
        "section": url_name,
    }


def day_of(value, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def page_url(name: str, *args, **query) -> str:
    url = reverse(f"people:{name}", args=args)
    query = {k: v for k, v in query.items() if v not in (None, "")}
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def problems_to_messages(request, error: DomainError) -> None:
    for p in error.problems:
        messages.error(request, p.message)


def add_problems(form: forms.Form, error: DomainError) -> None:
    """A service's refusal on the field it names, else above the form."""
    for p in error.problems:
        form.add_error(p.field if p.field in form.fields else None, p.message)


def client_id_of(request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return None


def field_nodes(user, node: Node, levels: tuple[str, ...]) -> list[tuple[int, str]]:
    """Nodes of `node`'s subtree (and `node`) at these levels the user may change, labelled
    by their path, for a select."""
    nodes = list(
        Node.objects.restrict(user, scope.CHANGE)
        .filter(path__startswith=node.path, level__in=levels)
        .order_by("path")[:600]
    )
    paths = people_queries.place_paths(user, nodes)
    return [(n.pk, paths[n.pk] or n.name) for n in nodes]


def picked_person(request, field: str = "person", *, day: dt.date | None = None) -> Person | None:
    value = request.POST.get(field, "")
    if not value:
        return None
    return queries.duty_person(request.user, value, day=day)


def dispatch_targets(user, node: Node) -> tuple[list[tuple[str, str]], dict]:
    nodes = field_nodes(user, node, ("community", "grid"))
    places = list(queries.places_under(user, node, action=scope.CHANGE))
    choices = [(f"n{pk}", label) for pk, label in nodes]
    choices += [(f"p{p.pk}", f"{p.get_kind_display()} · {p.name}") for p in places]
    return choices, {"places": {p.pk: p for p in places}}
