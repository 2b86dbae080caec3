"""The figures cache (`core.figcache`) of a deployment is a table of the database, made by a
migration: every process of `bastion serve` and every server over the same database reads
and invalidates the same entries. (The tests themselves keep it in memory, conftest.)"""

import importlib

import pytest
from django.core.cache import caches


@pytest.mark.django_db
def test_the_figures_cache_is_a_table_every_process_shares(settings):
    project = importlib.import_module("bastion.settings")
    configured = project.CACHES["figures"]
    assert configured["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    settings.CACHES = {**settings.CACHES, "figures": configured}
    cache = caches["figures"]
    cache.set("k", {"figures": [1, 2]}, 60)  # the table exists: the migration made it
    assert cache.get("k") == {"figures": [1, 2]}
