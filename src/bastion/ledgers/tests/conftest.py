import pytest


@pytest.fixture
def immediate_tasks(settings):
    """Background tasks run at once, inside the request that queues them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(scope="session")
def browser(browser):
    """The root conftest's chromium, with the ORM allowed beside Playwright's event loop (its
    sync API keeps a loop running in the test thread, which Django otherwise refuses)."""
    import os

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return browser
