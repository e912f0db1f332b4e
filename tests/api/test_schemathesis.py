"""The API against its own OpenAPI document, with schemathesis: for every operation
(reads, and the partners' writes), requests generated from the document, valid and
invalid, must get an answer the document describes (status, content type, headers,
body), and never a server error.

In-process (Django's WSGI handler, no server), against the small data set of
tests/api/dataset.py, with a bounded number of examples per operation and fixed
randomness, so the run is short and the same every time. Each operation with a slug is
tried with the slugs of the data set (to see real answers) and with generated ones.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hamseda.api import keys
from hamseda.api.models import Scope
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Role
from tests.api.dataset import Dataset, make_dataset
from tests.conftest import PASSWORD

API = "/api/v1"
# Per operation, per set of path parameters, per mode (valid, invalid data).
EXAMPLES = 15


@pytest.fixture
def data(db, outbox, now) -> Dataset:
    return make_dataset(outbox, now)


@pytest.fixture
def app():
    """Django's WSGI application, sharing the test's database connection (as Django's
    test client does, the connection is not closed around each request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def known_slugs(data: Dataset, path: str) -> list[dict]:
    """Path parameters of the data set for an operation's path: real things to read."""
    if "{slug}" not in path:
        return [{}]
    if path.startswith(f"{API}/campaigns/"):
        slugs = [data.campaign.slug]
    elif path.startswith(f"{API}/petitions/"):
        slugs = [data.petition.slug, data.won.slug]
    elif path.startswith(f"{API}/days/"):
        slugs = [data.day.slug]
    elif path.startswith(f"{API}/events/"):
        slugs = [data.event.slug, data.cancelled.slug]
    elif path.startswith(f"{API}/press/"):
        slugs = [data.release.slug]
    else:
        slugs = []
    return [{"slug": slug} for slug in slugs]


def exercise(
    operation, mode: GenerationMode, path_parameters: dict, headers: dict | None = None
) -> None:
    # A write may refuse data its schema allows: an e-mail address or a country that
    # does not exist, a disposable domain (the sign form's own checks, which no JSON
    # Schema can say). Every other check holds for writes too.
    excluded = [positive_data_acceptance] if operation.method != "get" else None

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=path_parameters or None))
    def run(case):
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    try:
        run()
    except Unsatisfiable:
        # Nothing of this operation can be made invalid (e.g. the count with a fixed
        # slug: no query, no body); the valid requests were tried.
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_every_operation_answers_as_its_document_says(app, data):
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    owner = org_services.create_organizer(
        email="owner@example.org",
        password=PASSWORD,
        organization=data.petition.organization,
        role=Role.OWNER,
    )
    _key, secret = keys.create_key(
        data.petition.organization, name="Partner site", scopes=Scope.values, created_by=owner
    )
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # A write is tried without a key (401) and with a valid one (the real thing).
        credentials = [None] if operation.method == "get" else [None, with_key(secret)]
        for path_parameters in [*known_slugs(data, operation.path), {}]:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for headers in credentials:
                    exercise(operation, mode, path_parameters, headers)
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert f"GET {API}/petitions/{{slug}}/count" in tried
    assert len(tried) >= 13


def with_key(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
