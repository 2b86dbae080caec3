"""The public site finder's pages (no login), and the crews' queue count on the station page.

The finder pages are the one place in the web UI that does not narrow through
`core.scope`: they are public by design and show only what a notice board at a site
shows (its name, address, hours, open stations, a wait band), for any community, and
nothing of any person. So that a whole city can ask at once, they:

* read `testing.finder.queries.finder_data` (cached per community, a handful of indexed queries on
  a miss, none on a hit) and never touch the session or the user: no cookie is set, no
  `Vary: Cookie`, and the answer is `Cache-Control: public, max-age=CACHE_SECONDS` with an
  ETag (a repeated request within the period answers 304 without rendering); the page is
  rendered once per figures and language and kept in the cache beside them;
* take the language from the URL (`?lang=en`; Chinese without it), not from a cookie, so a
  shared cache keeps one copy per URL; a community's page is also its QR link
  (`/find/<community id>/`);
* work without JavaScript and weigh a few kilobytes (one template, inline CSS).
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.testing.finder import queries, services
from bastion.testing.rounds import queries as round_queries

LANGS = ("zh-hans", "en")


SEARCH_SHOWN = 60


SEARCH_CACHE_SECONDS = 300


def _lang(request) -> str:
    lang = request.GET.get("lang", "")
    return lang if lang in LANGS else LANGS[0]


def _public(response, lang: str, max_age: int):
    patch_cache_control(response, public=True, max_age=max_age)
    response["Content-Language"] = lang
    return response


def _links(lang: str, path: str) -> dict:
    """The page in each language (the other one is the switch)."""
    return {"zh_hans": path, "en": path + "?lang=en"}


@require_GET
def finder_index(request):
    """Choose a community: search by name (no JavaScript), or a link with ?community=."""
    lang = _lang(request)
    raw = request.GET.get("community", "")
    if raw.isdigit():
        url = reverse("finder_community", args=[int(raw)])
        return redirect(url + ("?lang=en" if lang == "en" else ""))
    query = request.GET.get("q", "").strip()[:40]
    key = f"{queries.CACHE_PREFIX}:search:{query.encode().hex()}"
    if (found := cache.get(key)) is None:  # names of communities change rarely
        found = queries.communities_matching(query, limit=SEARCH_SHOWN + 1)
        cache.set(key, found, SEARCH_CACHE_SECONDS)
    with translation.override(lang):
        response = render(
            request,
            "testing/finder_index.html",
            {
                "lang": lang,
                "query": query,
                "communities": found[:SEARCH_SHOWN],
                "more": len(found) > SEARCH_SHOWN,
                "links": _links(lang, request.path),
            },
        )
    return _public(response, lang, 300)


def _when(at: dt.datetime | None, today: dt.date) -> dict | None:
    if at is None:
        return None
    local = timezone.localtime(at)
    return {"time": local.strftime("%H:%M"), "tomorrow": local.date() > today}


@require_GET
def finder_community(request, community_id: int):
    """The open sites near one community, its own first, with hours and a wait band."""
    lang = _lang(request)
    data = queries.finder_data(community_id)
    if data is None:
        raise Http404
    computed = data["computed_at"]
    etag = f'"{community_id}-{lang}-{computed.timestamp():.0f}"'
    if (not_modified := get_conditional_response(request, etag=etag)) is not None:
        return _public(not_modified, lang, queries.CACHE_SECONDS)
    key = f"{queries.CACHE_PREFIX}:page:{etag}"
    if (html := cache.get(key)) is None:  # rendered once per figures and language
        html = _render_community(request, data, lang)
        cache.set(key, html, queries.CACHE_SECONDS)
    response = HttpResponse(html)
    response["ETag"] = etag
    return _public(response, lang, queries.CACHE_SECONDS)


def _render_community(request, data: dict, lang: str) -> bytes:
    computed = data["computed_at"]
    today = timezone.localdate(computed)
    sites = [{**s, "opens": _when(s["next_open_at"], today)} for s in data["sites"]]
    path = reverse("finder_community", args=[data["community"]["id"]])
    with translation.override(lang):
        return render_to_string(
            "testing/finder.html",
            {
                "lang": lang,
                "data": data,
                "sites": sites,
                "open_count": sum(s["open_now"] for s in sites),
                "computed": timezone.localtime(computed),
                "links": _links(lang, path),
                "back": reverse("finder") + ("?lang=en" if lang == "en" else ""),
            },
        ).encode()


@login_required
@require_POST
def station_queue(request, station_id: int):
    """A crew's count of the people waiting, from the station page (scoped: change)."""
    station = scope.get_scoped_or_404(
        round_queries.stations_for(request.user), request.user, scope.CHANGE, pk=station_id
    )
    raw = request.POST.get("queue_length", "").strip()
    try:
        length = int(raw) if raw.isdigit() else -1
        services.station_queue_report(actor=request.user, station=station, length=length)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Queue count saved: %(n)s waiting.") % {"n": length})
    return redirect("testing:station", station.pk)
