"""Report-in pages: the public form (no login), the QR poster, the community's list and its
decisions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.geo.models import Node
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.forms import ConfirmForm, RejectForm, ReportInForm
from bastion.people.mobilization.models import (
    ReportIn,
    ReportInStatus,
    Skill,
)
from bastion.people.mobilization.views.common import (
    PER_PAGE,
    add_problems,
    field_nodes,
    node_asked,
    page_url,
    section_context,
)


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
            services.report_in_submit(
                community=community,
                **form.cleaned_data,
                source_key=services.report_in_source_key(report_in_address(request)),
            )
            # The same receipt whether the number was registered or not: what was sent, now.
            done = {"name": form.cleaned_data["name"].strip(), "received_at": timezone.now()}
        except services.TooManyReports as error:
            form.add_error(None, str(error))
            status = 429
        except DomainError as error:
            add_problems(form, error)
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
    node = node_asked(request)
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
        link = request.build_absolute_uri(page_url("report_in", c=queries.report_in_token(node)))
    return render(
        request,
        "people/mobilization/report_in_qr.html",
        {
            **section_context(request, node, "report_ins"),
            "communities": communities,
            "link": link,
        },
    )


@login_required
def report_ins(request):
    node = node_asked(request)
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
            **section_context(request, node, "report_ins"),
            "page": page,
            "status": status,
            "counts": counts,
            "statuses": [*ReportInStatus.choices, ("all", _("All"))],
            "skill_labels": dict(Skill.choices),
        },
    )


@login_required
def report_in_decide(request, report_in_id: int):
    """Confirm a registration (with a post or a task) or turn it down."""
    row = scope.get_scoped_or_404(
        ReportIn.objects.select_related("community", "person"), request.user, pk=report_in_id
    )
    may_decide = scope.can(request.user, scope.CHANGE, row)
    nodes = field_nodes(request.user, row.community, ("community", "grid", "building"))
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
                add_problems(form, error)
            else:
                return redirect(page_url("report_ins", node=row.community_id))
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
