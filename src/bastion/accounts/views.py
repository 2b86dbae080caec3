"""Admin pages: who revealed whose numbers, and the change history. Only for logins with the
"admin" action (city administrators, superusers), and only inside their scope."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from bastion.accounts import queries
from bastion.accounts.forms import ChangeFilterForm, RevealFilterForm
from bastion.core import scope

PER_PAGE = 50


def _require_admin(request) -> None:
    if not scope.has_action(request.user, scope.ADMIN):
        raise PermissionDenied


def _page(request, entries) -> dict:
    """One page of a log that may hold millions of rows: fetch one row more than a page to
    know whether there is a next one, and never COUNT the whole log."""
    try:
        number = min(max(1, int(request.GET.get("page", 1))), 100_000)
    except ValueError:
        number = 1
    start = (number - 1) * PER_PAGE
    rows = list(entries[start : start + PER_PAGE + 1])
    return {
        "entries": rows[:PER_PAGE],
        "number": number,
        "has_previous": number > 1,
        "has_next": len(rows) > PER_PAGE,
    }


def _filters(form) -> dict:
    """The valid filter values; an invalid one is dropped (and shown on the form)."""
    form.is_valid()
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


@login_required
def reveal_log(request):
    _require_admin(request)
    form = RevealFilterForm(request.GET)
    entries = queries.reveal_log(request.user, **_filters(form))
    return render(request, "accounts/reveal_log.html", {"form": form, **_page(request, entries)})


@login_required
def changes(request):
    _require_admin(request)
    form = ChangeFilterForm(request.GET)
    page = _page(request, queries.change_log(request.user, **_filters(form)))
    page["entries"] = queries.change_rows(request.user, page["entries"])
    return render(request, "accounts/changes.html", {"form": form, **page})
