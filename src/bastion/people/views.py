"""Pages about people and posts: the vacancy report, the posts of a subtree, assigning and
ending posts, revealing a number, and the printable building notice. Thin: scope through
core.scope / geo.queries, reads in people.queries, writes in people.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.privacy import personal_data_reveal
from bastion.geo import queries as geo_queries
from bastion.geo.models import Node
from bastion.people import queries, services
from bastion.people.forms import PostAssignForm
from bastion.people.models import Person, Post, PostRole

POSTS_PER_PAGE = 50


def _report_node(request) -> Node:
    """The node named by ?node=, fetched within the user's scope, else the user's first root."""
    if node_id := request.GET.get("node"):
        return geo_queries.node_for(request.user, node_id)
    root = geo_queries.root_nodes(request.user).first()
    if root is None:
        raise Http404
    return root


def _place_context(request, node: Node) -> dict:
    """The breadcrumb above a report and the lower nodes to narrow it to."""
    return {
        "node": node,
        "ancestors": geo_queries.ancestors(request.user, node),
        "narrower": list(geo_queries.children(request.user, node)),
        "can_change": scope.can(request.user, scope.CHANGE, node),
    }


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _posts_url(node: Node) -> str:
    return f"{reverse('people:posts')}?node={node.pk}"


@login_required
def vacancy_report(request):
    node = _report_node(request)
    levels = queries.vacancy_report(request.user, node)
    listed = [n for level in levels for n in level.nodes]
    paths = queries.place_paths(request.user, listed)
    assignable = set(
        Node.objects.restrict(request.user, scope.CHANGE)
        .filter(pk__in=[n.pk for n in listed])
        .values_list("pk", flat=True)
    )
    rows = [
        {
            "level": level,
            "role_label": PostRole(level.role).label,
            "vacant_nodes": [(n, paths[n.pk], n.pk in assignable) for n in level.nodes],
        }
        for level in levels
    ]
    zones = queries.zones_under(request.user, node)
    return render(
        request,
        "people/vacancies.html",
        {
            **_place_context(request, node),
            "levels": rows,
            "vacant_total": sum(level.vacant for level in levels),
            "zones_shown": node.level in ("city", "district", "street"),
            "zone_count": zones.count(),
            "zones_without_commander": list(queries.zones_without_commander(request.user, node)),
        },
    )


@login_required
def post_list(request):
    node = _report_node(request)
    role = request.GET.get("role", "")
    if role not in PostRole.values:
        role = ""
    text = request.GET.get("q", "")
    page = Paginator(
        queries.posts_under(request.user, node, role=role, text=text), POSTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    posts = list(page.object_list)
    paths = queries.place_paths(request.user, posts)
    revealable = queries.revealable_person_ids(request.user, [p.person_id for p in posts])
    changeable = set(
        Post.objects.restrict(request.user, scope.CHANGE)
        .filter(pk__in=[p.pk for p in posts])
        .values_list("pk", flat=True)
    )
    rows = [
        {
            "post": p,
            "path": paths[p.pk],
            "revealable": p.person_id in revealable,
            "can_end": p.pk in changeable,
        }
        for p in posts
    ]
    return render(
        request,
        "people/posts.html",
        {
            **_place_context(request, node),
            "page": page,
            "rows": rows,
            "roles": PostRole.choices,
            "role": role,
            "q": text,
        },
    )


@login_required
def post_assign(request):
    """Put a person on the node of ?node= (change scope). A held chief post is refused by the
    service, naming its holder, and shown on the form."""
    node = geo_queries.node_for(request.user, request.GET.get("node"), scope.CHANGE)
    data = request.POST if request.method == "POST" else None
    form = PostAssignForm(
        data,
        user=request.user,
        node=node,
        initial={"role": request.GET.get("role"), "zone": request.GET.get("zone")},
    )
    if form.is_valid():
        try:
            post = services.post_assign(
                person=form.cleaned_data["person"],
                role=form.cleaned_data["role"],
                node=node,
                zone=form.cleaned_data.get("zone"),
                title=form.cleaned_data.get("title", ""),
                started_on=form.cleaned_data["started_on"],
                actor=request.user,
            )
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(
                request,
                _("%(person)s is now %(role)s of %(node)s.")
                % {"person": post.person, "role": post.get_role_display(), "node": node},
            )
            return redirect(_safe_next(request, _posts_url(node)))
    text = request.GET.get("q", "")
    persons = list(queries.person_search(request.user, text))
    chosen = form.cleaned_data.get("person") if form.is_bound else None
    if chosen is not None and chosen not in persons:
        persons.insert(0, chosen)
    return render(
        request,
        "people/post_assign.html",
        {
            **_place_context(request, node),
            "form": form,
            "q": text,
            "persons": persons,
            "chosen_id": chosen.pk if chosen else None,
            "next": _safe_next(request, ""),
        },
    )


@login_required
def person_search(request):
    """The person choices of the assign form, for htmx to swap in as the user types."""
    text = request.GET.get("q", "")
    persons = queries.person_search(request.user, text)
    return render(request, "people/_person_choices.html", {"persons": persons, "q": text})


@login_required
@require_POST
def post_end(request, post_id: int):
    post = scope.get_scoped_or_404(
        Post.objects.select_related("node"), request.user, scope.CHANGE, pk=post_id
    )
    try:
        services.post_end(post=post, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(person)s is no longer %(role)s of %(node)s.")
            % {"person": post.person, "role": post.get_role_display(), "node": post.node},
        )
    return redirect(_safe_next(request, _posts_url(post.node)))


@login_required
@require_POST
def person_reveal(request, person_id: int, field: str):
    """Show one person's full number (logged). htmx gets the number; a plain form post gets
    it as a message on the page it came from."""
    person = scope.get_scoped_or_404(Person, request.user, scope.REVEAL, pk=person_id)
    try:
        value = personal_data_reveal(user=request.user, subject=person, field=field)
    except DomainError:
        raise Http404 from None
    if request.headers.get("HX-Request"):
        return render(request, "geo/_revealed.html", {"value": value, "field": field})
    messages.info(request, f"{person}: {value}")
    return redirect(_safe_next(request, reverse("people:posts")))


@login_required
def building_notice(request, building_id: int):
    """The A4 notice a building posts at its entrances: its chiefs and their numbers in full
    (residents are meant to call them), for users who may see the building."""
    building = geo_queries.node_for(request.user, building_id)
    if building.level != "building":
        raise Http404
    notice = queries.building_notice(building)
    chain = [
        (PostRole(role).label, notice["chiefs"].get(role))
        for role in (PostRole.STREET_CHIEF, PostRole.GRID_CHIEF, PostRole.BUILDING_CHIEF)
    ]
    return render(
        request,
        "people/building_notice.html",
        {
            "building": building,
            "chain": chain,
            **notice,
        },
    )
