"""What every test stands on: the shared password, rows captured once and inserted again per
test (`Rows`), a browser login and a network a test can cut (`Cable`). The small known tree
and its logins are in `bastion.accounts.testing`."""

import contextlib
import dataclasses
import socket
import threading
from collections import defaultdict

from django.apps import apps
from django.db import models, transaction

PASSWORD = "test-pass-123"


class Rows:
    """The rows a build function adds to the database, captured once per session (in a
    transaction that is rolled back) and inserted again, as they were, for each test that
    asks for them: one INSERT per table instead of the hundreds of queries the services
    make. Each test still gets its own copy, rolled back or flushed after it like any row it
    makes, so tests that do not ask see an empty database.

    `build` runs on top of `base` (another Rows, inserted first) and gets its result; the
    rows captured are those `build` adds, and the base's rows it changes or deletes (changed
    again and deleted again, after the inserts). `result()` gives what `build` returned with
    every model instance in it fetched again from the database, one instance per row."""

    def __init__(self, build, base: "Rows | None" = None):
        tables = [
            m
            for m in apps.get_models(include_auto_created=True)
            if m._meta.managed and not m._meta.proxy
        ]
        with transaction.atomic():
            args = (base.insert({}),) if base else ()
            before = {m: {o.pk: _values(o) for o in m._base_manager.all()} for m in tables}
            self.built = build(*args)
            self.rows, self.changed, self.deleted = [], [], []
            for model in tables:
                now = list(model._base_manager.order_by("pk"))
                new = [o for o in now if o.pk not in before[model]]
                if new:
                    self.rows.append((model, new))
                changed = [o for o in now if before[model].get(o.pk, _values(o)) != _values(o)]
                if changed:
                    self.changed.append((model, changed))
                gone = set(before[model]) - {o.pk for o in now}
                if gone:
                    self.deleted.append((model, gone))
            transaction.set_rollback(True)

    def insert(self, fetched: dict) -> object:
        """Insert the rows (the base's must be there already) and return the build's
        result; see `result`."""
        with transaction.atomic():
            for model, objs in self.rows:
                model._base_manager.bulk_create(objs)
            for model, objs in self.changed:
                fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
                model._base_manager.bulk_update(objs, fields)
            for model, pks in self.deleted:
                model._base_manager.filter(pk__in=pks)._raw_delete(model._base_manager.db)
        return self.result(fetched)

    def result(self, fetched: dict) -> object:
        """The build's result with its model instances fetched again. `fetched` maps
        (model, pk) to the instances already handed to this test, so one row is one object
        across the fixtures of a test, as when fixtures pass their objects on."""
        wanted = defaultdict(set)
        _walk(self.built, lambda o: wanted[type(o)].add(o.pk))
        for model, pks in wanted.items():
            missing = [pk for pk in pks if (model, pk) not in fetched]
            for pk, obj in model._base_manager.in_bulk(missing).items():
                fetched[model, pk] = obj
        return _walk(self.built, lambda o: fetched[type(o), o.pk])


def _values(obj: models.Model) -> tuple:
    return tuple(getattr(obj, f.attname) for f in obj._meta.concrete_fields)


def _walk(value, on_model):
    """`value` rebuilt with `on_model(instance)` in place of each model instance in it
    (through dataclasses, lists, tuples and dicts)."""
    if isinstance(value, models.Model):
        return on_model(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value,
            **{
                f.name: _walk(getattr(value, f.name), on_model)
                for f in dataclasses.fields(value)
                if f.init
            },
        )
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_walk(v, on_model) for v in value))
    if isinstance(value, list | tuple):
        return type(value)(_walk(v, on_model) for v in value)
    if isinstance(value, dict):
        return {k: _walk(v, on_model) for k, v in value.items()}
    return value


def fits_a_phone(page, width: int = 390, *, within: str = "main") -> None:
    """Nothing on the page wider than the phone, and every visible button or button-like link
    `within` the page's part at least 44 px tall (a finger's tap)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for button in page.locator(f"{within} button:visible, {within} .btn:visible").all():
        assert button.bounding_box()["height"] >= 44, button.inner_text()


def browser_login(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


class Cable:
    """A loopback relay in front of the test server that a test cuts and mends: a phone's
    network going away for real. (Chromium's offline mode misses requests that pass through a
    service worker, so a page under one would still reach the server.)"""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._up = True
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Drop every open connection; new ones are closed as soon as they arrive."""
        with self._lock:
            self._up = False
            for s in self._open:
                _close(s)
            self._open.clear()

    def mend(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self.cut()
        _close(self._listener)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            with self._lock:
                if not self._up:
                    _close(client)
                    continue
                server = socket.create_connection(self._upstream)
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    sink.sendall(data)
        finally:
            for s in (source, sink):
                _close(s)
                with self._lock:
                    self._open.discard(s)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()
