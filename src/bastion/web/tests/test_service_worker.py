"""The service worker is served at the site's root, the same for everyone, and named after
the release: a change to a file the offline pages load makes a new worker (and cache)."""

from bastion.web import views


def test_the_service_worker_is_named_after_the_files_it_keeps(client, monkeypatch, tmp_path):
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/javascript"
    assert answer["Cache-Control"] == "no-cache"
    version = views.service_worker_version()
    assert f'var VERSION = "{version}";' in answer.content.decode()

    changed = tmp_path / "station.js"
    changed.write_text("/* the next release */")
    real = views.finders.find
    monkeypatch.setattr(
        views.finders,
        "find",
        lambda name: str(changed) if name == "testing/station.js" else real(name),
    )
    views.service_worker_version.cache_clear()
    try:
        assert views.service_worker_version() != version
    finally:
        views.service_worker_version.cache_clear()
