import os

import pytest
from django.conf import settings

from bastion.accounts.testing import build_small_tree
from bastion.core.testing import Rows


def pytest_configure(config):
    # Slow password hashing protects real logins; in tests it only costs seconds per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests assert the English msgids; the Chinese default and the catalogue's completeness
    # are asserted on their own in web/tests/test_translations.py.
    settings.LANGUAGE_CODE = "en"
    # The figures cache in memory: a test's rows are rolled back or flushed, a cache table
    # would keep figures counted over them. `core/tests/test_figcache.py` checks the table.
    settings.CACHES = {
        **settings.CACHES,
        "figures": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }


@pytest.fixture(autouse=True)
def _language_of_the_settings():
    """Each test starts in the settings' language: a test client's request in Chinese leaves
    Chinese active in this thread (LocaleMiddleware never deactivates), and a later test
    that reads a message without a request of its own would get it in Chinese."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _figures_cache_empty():
    """Each test counts its own figures (`core.figcache`)."""
    from django.core.cache import caches

    caches["figures"].clear()


@pytest.fixture
def fetched():
    """The instances the snapshot fixtures handed to this test, by (model, pk)."""
    return {}


@pytest.fixture(scope="session")
def tree_rows(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return Rows(build_small_tree)


@pytest.fixture
def tree(db, tree_rows, fetched):
    """The small known tree (see bastion.accounts.testing)."""
    return tree_rows.insert(fetched)


# Fixtures for the tests of the layers below accounts (geo), which may not import it.
@pytest.fixture
def reveal_log():
    """The reveal log's model, where a test asserts that a number shown was logged."""
    from bastion.accounts.models import RevealLog

    return RevealLog


@pytest.fixture
def api_as():
    """`api_as(user)`: a test client calling the API with a new bearer token of `user`."""
    from bastion.accounts.testing import api_client

    return api_client


# For the tests of a module that others build on (notices), which may not import people: a
# module that imports notices is imported by people, so the import would close a cycle.
@pytest.fixture
def make_person():
    """`make_person(**kwargs)`: a person through people.services.person_create."""
    from bastion.people.services import person_create

    return person_create


CHROMIUM = "/usr/bin/chromium"
# Flags for Debian's chromium in a closed sandbox: no background calls home, no GPU, as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # beside it are still synchronous, so Django's async-safety guard does not apply.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _phone_context(browser, base_url: str):
    return browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=base_url
    )


@pytest.fixture
def phone_page(browser, live_server):
    """A page on a 390 px wide phone viewport, Chinese first, against the live test server."""
    context = _phone_context(browser, live_server.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def cable(live_server):
    """The phone's network to the live test server, for a test to cut and mend."""
    from urllib.parse import urlsplit

    from bastion.core.testing import Cable

    cable = Cable(urlsplit(live_server.url).port)
    yield cable
    cable.close()


@pytest.fixture
def cabled_phone_page(browser, cable):
    """A phone page whose network is `cable`."""
    context = _phone_context(browser, cable.url)
    page = context.new_page()
    yield page
    context.close()
