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


@pytest.fixture
def chinese_default(settings):
    """The deployed default language (the suite runs in English): ledgers name their sheets
    and columns in it."""
    settings.LANGUAGE_CODE = "zh-hans"
