"""The household's own page, opened by the secret link on its QR code (no login): raise a
request, order an errand, follow them, rate them. It sees its own household only, and shows
no staff data (no names or phones of staff or couriers, no internal notes).

Every view takes the token from the URL and resolves it to an active link first; an unknown,
forged or revoked token is a 404 like any missing page. Answers are never cached, never
indexed, and never send the link to another site as a referrer (same-origin: Django's CSRF check
needs the Origin of a form post, which "no-referrer" would blank)."""

from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bastion.core.errors import DomainError
from bastion.core.files import stored_file_response
from bastion.core.photos import photos_check
from bastion.geo.models import Resident
from bastion.requests import queries, services
from bastion.requests.forms import (
    CancelForm,
    ConfirmForm,
    HomeErrandForm,
    HomeRequestForm,
    RateForm,
    ReopenForm,
    parse_items,
)
from bastion.requests.models import ErrandStatus, Track
from bastion.requests.services import HOUSEHOLD_MAY_CANCEL, request_allows


def household_page(view):
    """Resolve the token to its link (404 otherwise) and harden the answer."""

    @wraps(view)
    def wrapper(request, token: str, *args, **kwargs):
        link = services.link_from_token(token)
        if link is None:
            raise Http404
        request.household_link = link
        response = view(request, link, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _members(link) -> list[Resident]:
    return list(Resident.objects.filter(household_id=link.household_id).order_by("pk"))


# The steps a household sees, in order (the current one marked), per track.
HANDLE_NOW_STEPS = [
    ("new", gettext_lazy("Received")),
    ("waiting", gettext_lazy("Being arranged")),
    ("claimed", gettext_lazy("Being handled")),
    ("done", gettext_lazy("Done")),
    ("closed", gettext_lazy("Closed")),
]
CONSULT_STEPS = [
    ("new", gettext_lazy("Received")),
    ("on_agenda", gettext_lazy("On the meeting agenda")),
    ("assigned", gettext_lazy("Being handled")),
    ("done", gettext_lazy("Done")),
    ("reported", gettext_lazy("Reported at the meeting")),
    ("closed", gettext_lazy("Closed")),
]
ERRAND_STEPS = [
    ("ordered", gettext_lazy("Ordered")),
    ("accepted", gettext_lazy("Accepted")),
    ("assigned", gettext_lazy("Courier found")),
    ("picked_up", gettext_lazy("On the way")),
    ("delivered", gettext_lazy("Delivered")),
    ("confirmed", gettext_lazy("Confirmed")),
]


def _steps(steps, current: str) -> list[tuple[str, str, str]]:
    keys = [k for k, _label in steps]
    at = keys.index(current) if current in keys else 0
    return [
        (k, label, "done" if i < at else "now" if i == at else "todo")
        for i, (k, label) in enumerate(steps)
    ]


def _request_steps(r) -> list:
    if r.track == Track.CONSULT:
        return _steps(CONSULT_STEPS, r.status)
    return _steps(HANDLE_NOW_STEPS, r.status)


@household_page
def home(request, link):
    household = link.household
    requests = list(queries.household_requests(household)[:50])
    errands = list(queries.household_errands(household)[:50])
    return render(
        request,
        "requests/home/index.html",
        {
            "token": request.resolver_match.kwargs["token"],
            "household": household,
            "requests": requests,
            "errands": errands,
            "open_errands": [e for e in errands if e.is_open or e.status == ErrandStatus.DELIVERED],
        },
    )


@household_page
def request_new(request, link):
    form = HomeRequestForm(request.POST or None, request.FILES or None, members=_members(link))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            photos = photos_check(data["photos"])
            raised_by = Resident.objects.filter(
                household_id=link.household_id, pk=data["raised_by"]
            ).first()
            created = services.request_create(
                actor=None,
                link=link,
                channel="resident_page",
                category=data["category"],
                title=data["title"],
                description=data["description"],
                urgency=data["urgency"],
                raised_by=raised_by,
                photos=photos,
                client_id=data["client_id"],
            )
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Sent. The community will get back to you."))
            return redirect("requests:home_request", token=_token(request), pk=created.pk)
    return render(
        request,
        "requests/home/request_new.html",
        {"token": _token(request), "form": form, "household": link.household},
    )


def _token(request) -> str:
    return request.resolver_match.kwargs["token"]


@household_page
def request_detail(request, link, pk: int):
    r = queries.household_request(link.household, pk)
    photos = list(r.photos.order_by("uploaded_at", "pk"))
    return render(
        request,
        "requests/home/request.html",
        {
            "token": _token(request),
            "r": r,
            "steps": _request_steps(r),
            "photos": [p for p in photos if p.kind == "report"],
            "evidence": [p for p in photos if p.kind == "evidence"],
            "rate_form": RateForm() if request_allows(r, "rate") else None,
            "reopen_form": ReopenForm() if request_allows(r, "reopen") else None,
            "household": link.household,
        },
    )


@household_page
def errand_new(request, link):
    form = HomeErrandForm(request.POST or None, members=_members(link))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            raised_by = Resident.objects.filter(
                household_id=link.household_id, pk=data["raised_by"]
            ).first()
            errand = services.errand_order(
                household=link.household,
                link=link,
                items=parse_items(data["items"]),
                urgency=data["urgency"],
                note=data["note"],
                payment_note=data["payment_note"],
                raised_by=raised_by,
                client_id=data["client_id"],
            )
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Ordered. Show the code below to the courier."))
            return redirect("requests:home_errand", token=_token(request), pk=errand.pk)
    return render(
        request,
        "requests/home/errand_new.html",
        {
            "token": _token(request),
            "form": form,
            "household": link.household,
            "sealed": services.sealed_at(link.household),
        },
    )


@household_page
def errand_detail(request, link, pk: int):
    e = queries.household_errand(link.household, pk)
    return render(
        request,
        "requests/home/errand.html",
        {
            "token": _token(request),
            "e": e,
            "items": list(e.items.all()),
            "steps": _steps(ERRAND_STEPS, e.status) if e.status != ErrandStatus.CANCELLED else [],
            "confirm_form": ConfirmForm() if e.status == ErrandStatus.DELIVERED else None,
            "cancel_form": CancelForm() if e.status in HOUSEHOLD_MAY_CANCEL else None,
            "show_code": e.status
            in (
                ErrandStatus.ORDERED,
                ErrandStatus.ACCEPTED,
                ErrandStatus.ASSIGNED,
                ErrandStatus.PICKED_UP,
            ),
            "household": link.household,
        },
    )


HOME_MOVES = {
    ("request", "rate"),
    ("request", "reopen"),
    ("errand", "confirm"),
    ("errand", "cancel"),
}


@require_POST
@household_page
def act(request, link, kind: str, pk: int, action: str):
    if (kind, action) not in HOME_MOVES:
        raise Http404
    data = request.POST
    try:
        if kind == "request":
            r = queries.household_request(link.household, pk)
            if action == "rate":
                form = RateForm(data)
                if not form.is_valid():
                    raise DomainError(_("Choose how satisfied you are."), field="rating")
                services.request_rate(
                    request=r,
                    link=link,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                    client_id=form.cleaned_data["client_id"],
                )
                messages.success(request, _("Thank you for your rating."))
            else:
                form = ReopenForm(data)
                form.is_valid()
                services.request_reopen(
                    request=r,
                    link=link,
                    reason=form.cleaned_data.get("reason", ""),
                    client_id=form.cleaned_data.get("client_id"),
                )
                messages.success(request, _("Reopened. The community will look at it again."))
            return redirect("requests:home_request", token=_token(request), pk=pk)
        e = queries.household_errand(link.household, pk)
        if action == "confirm":
            form = ConfirmForm(data)
            form.is_valid()
            services.errand_confirm(
                errand=e,
                link=link,
                rating=form.cleaned_data.get("rating"),
                comment=form.cleaned_data.get("comment", ""),
                client_id=form.cleaned_data.get("client_id"),
            )
            messages.success(request, _("Thank you: delivery confirmed."))
        else:
            form = CancelForm(data)
            form.is_valid()
            services.errand_cancel(
                errand=e,
                link=link,
                reason=form.cleaned_data.get("reason", ""),
                client_id=form.cleaned_data.get("client_id"),
            )
            messages.success(request, _("Errand cancelled."))
    except DomainError as error:
        messages.error(request, " ".join(p.message for p in error.problems))
    target = "requests:home_request" if kind == "request" else "requests:home_errand"
    return redirect(target, token=_token(request), pk=pk)


@household_page
def photo(request, link, pk: int):
    photo = queries.household_photo(link.household, pk)
    return stored_file_response(photo.file, photo.content_type)
