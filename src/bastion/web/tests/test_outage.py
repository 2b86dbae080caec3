"""A database outage answers 503 "retry" (JSON on the API, a page elsewhere) with
Retry-After, never a 500; a write stored just before the outage is replayed on retry."""

import contextlib

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test import Client, override_settings


@contextlib.contextmanager
def database_down():
    """Every query of this thread's connection fails as with a server gone away."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


def _quiet(client: Client) -> Client:
    client.raise_request_exception = False  # answer as a server does, not re-raise
    return client


def test_the_api_answers_a_json_503_that_says_retry(tree, api_as):
    client = _quiet(api_as(tree.users["street"]))
    with database_down():
        answer = client.get("/api/v1/geo/nodes")
    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["retry"] is True
    assert answer.json()["detail"]
    assert answer["Retry-After"] == "5"


def test_a_page_answers_a_503_page_in_chinese(tree):
    client = _quiet(Client())
    client.force_login(tree.users["street"])
    with database_down():
        answer = client.get("/")
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    text = answer.content.decode()
    assert "请稍后重试" in text and "Try again in a moment" in text


class _FailingMiddleware:
    """A middleware (not a view) meeting the outage, as the session's save would."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError("the database system is shutting down")


@override_settings(
    MIDDLEWARE=[
        "bastion.core.outage.DatabaseOutageMiddleware",
        f"{__name__}._FailingMiddleware",
    ]
)
def test_an_outage_met_outside_the_view_answers_503_too(db):
    answer = _quiet(Client()).get("/api/v1/geo/nodes")
    assert answer.status_code == 503
    assert answer.json()["retry"] is True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own connections")
def test_a_connection_the_server_closed_is_replaced_at_the_next_request(
    django_db_setup, django_db_blocker
):
    """A database restart ends every kept connection: the next request must not answer 500 on
    the dead one (each request starts with `close_old_connections`, as Django's handler does)."""
    import psycopg

    with django_db_blocker.unblock():  # no table touched: outside a test transaction
        close_old_connections()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

        close_old_connections()  # the start of the next request
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid
