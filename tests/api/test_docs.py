"""The browsable API docs at /api/v1/docs: Swagger UI from django-ninja's own static
files, served by the install (nothing from another host), under the site's strict
Content-Security-Policy (in Chromium: tests/browser/test_api_docs.py); and the OpenAPI
document they show: valid OpenAPI 3.1, one entry for every operation, read and write."""

import json
import re

from openapi_spec_validator import validate

from hamseda.api.views import api

API = "/api/v1"


def test_the_docs_page_loads_only_our_own_files(client, db):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui-init.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    assert "http://" not in html
    assert "https://" not in html
    # No inline script: the settings are a JSON data block, which CSP does not run.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script type="application/json" id="swagger-settings">',
        '<script src="/static/ninja/swagger-ui-bundle.js">',
        '<script src="/static/ninja/swagger-ui-init.js">',
    ]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # No validator badge, which would load an image from validator.swagger.io.
    assert '"validatorUrl": null' in html
    for path in ["ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"]:
        assert client.get(f"/static/{path}").status_code == 200, path


def _operation_paths() -> set[str]:
    """The URL of every operation of the API, as the OpenAPI document writes it."""
    patterns, _app, _namespace = api.urls
    paths = set()
    for pattern in patterns:
        route = str(pattern.pattern)
        if pattern.name in {"openapi-json", "openapi-view", "api-root", None}:
            continue
        paths.add(API + "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return paths


def test_the_openapi_document_is_valid_3_1_and_describes_every_operation(client, db):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == _operation_paths()
    assert {
        f"{API}/campaigns/{{slug}}/pulse",
        f"{API}/petitions/{{slug}}/count",
        f"{API}/petitions/{{slug}}/updates",
        f"{API}/events",
        f"{API}/days",
        f"{API}/press/{{slug}}",
    } <= set(spec["paths"])
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), (method, path)
            documented = operation["responses"]
            assert any(status.startswith("2") for status in documented), (method, path)
            if method == "get":
                assert "200" in documented, path


def test_the_document_names_no_response_status_twice(client, db):
    """Swagger UI parses the document as YAML, which refuses a key given twice."""

    def refuse_duplicates(pairs):
        names = [name for name, _value in pairs]
        assert len(names) == len(set(names)), names
        return dict(pairs)

    json.loads(client.get(f"{API}/openapi.json").content, object_pairs_hook=refuse_duplicates)
