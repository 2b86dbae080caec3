from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from bastion.accounts.models import RoleAssignment
from bastion.geo import queries


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
        },
    )
