"""The main navigation: a bar on a wide screen with data and administration under "More", and
one "Menu" button on a phone that opens the grouped list (no sideways scrolling)."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from bastion.core.testing import PASSWORD, browser_login
from bastion.web.templatetags.ui import NavItem, nav_links


def render_nav(user, path: str) -> str:
    request = RequestFactory().get(path)
    request.user = user
    with translation.override("en"):  # whatever language an earlier test left active
        return Template("{% load ui %}{% main_nav %}").render(Context({"request": request}))


def test_data_and_administration_sit_under_more_for_an_admin(tree):
    html = render_nav(tree.users["admin"], "/accounts/changes/")
    bar, menu = html.split('<details class="nav-menu">')
    primary, more = bar.split('<details class="nav-more">')
    assert "Find resident" in primary and "Reveal log" not in primary
    assert "Import" in more and "Reveal log" in more
    assert 'summary class="active"' in more  # the page shown is under "More"
    for group in ("Field work", "People and posts", "Data", "Administration"):
        assert f"<h2>{group}</h2>" in menu


def test_a_grid_chief_gets_no_administration_group_and_no_more_for_nothing(tree):
    html = render_nav(tree.users["grid"], "/")
    assert "Administration" not in html and "Reveal log" not in html
    assert "Export" in html.split('<details class="nav-menu">')[0]


@pytest.mark.browser
def test_the_phone_menu_opens_grouped_links(tree, phone_page):
    page = phone_page
    browser_login(page, "admin", PASSWORD)
    page.goto("/")
    assert not page.locator(".nav-flat").is_visible()
    reveal = page.locator(".nav-menu a", has_text="号码查看记录")
    assert not reveal.is_visible()
    page.click(".nav-menu summary")
    assert reveal.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    reveal.click()
    page.wait_for_url("**/reveals/**")
    assert "号码查看记录" in page.locator(".nav-menu summary").inner_text()


def test_nav_skips_pages_that_do_not_exist_yet_and_roles_that_lack_the_action(tree):
    items = (
        NavItem("web:home", "Home"),
        NavItem("nowhere:page", "Missing"),
        NavItem("geo:search", "Search", "admin"),
    )
    assert [link["label"] for link in nav_links(tree.users["grid"], "/", items)] == ["Home"]
    links = nav_links(tree.users["admin"], "/geo/search/", items)
    assert [(link["label"], link["active"]) for link in links] == [
        ("Home", False),
        ("Search", True),
    ]
