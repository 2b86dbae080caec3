import functools
import hashlib

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.views.decorators.http import require_GET

from bastion.accounts.models import RoleAssignment
from bastion.geo import queries
from bastion.quarantine.home import queries as home_measures


@login_required
def home(request):
    """The login's own part of the tree, with its figures and roles, and the resident search."""
    roles: dict[int, list[str]] = {}
    for assignment in RoleAssignment.objects.filter(user=request.user).order_by("role"):
        roles.setdefault(assignment.node_id, []).append(assignment.get_role_display())
    roots = queries.nodes_with_counts(queries.root_nodes(request.user))
    # With one area, its lower nodes are listed at once, as on its own page.
    single = roots[0][0] if len(roots) == 1 and roots[0][0].child_level else None
    return render(
        request,
        "web/home.html",
        {
            "roots": [(node, counts, roles.get(node.pk, [])) for node, counts in roots],
            "single": single,
            "children": queries.children_with_counts(request.user, single) if single else [],
            "home_due": home_measures.due_today(request.user),  # the grid chief's today
        },
    )


# The static files the offline pages load: a change to any of them is a new release of the
# service worker (its cache is named after their hash).
OFFLINE_FILES = (
    "web/offline.js",
    "web/bastion.css",
    "vendor/htmx.min.js",
    "testing/station.js",
    "testing/testing.css",
)


@functools.cache
def service_worker_version() -> str:
    digest = hashlib.sha256(get_template("web/sw.js").template.source.encode())
    for name in OFFLINE_FILES:
        path = finders.find(name)
        if path:
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:16]


@require_GET
def service_worker(request):
    """The service worker that keeps the field pages for offline use, at the site's root so
    it may serve every page (web/sw.js). The same for everyone: it names no data."""
    response = HttpResponse(
        render_to_string("web/sw.js", {"version": service_worker_version()}),
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"  # a new release is seen at the next visit
    return response
