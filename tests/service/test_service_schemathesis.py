"""Schemathesis against the service's own OpenAPI schema: generated requests (valid and not) never get a 5xx, and
every answer matches the documented status codes, content types and response schemas.

Bounded for speed: 25 examples per operation, on the hand-built ONNX model (no training)."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from fake_artifacts import write_fake_artifacts  # noqa: E402
from hanzicheck.service.app import create_app  # noqa: E402
from hanzicheck.service.settings import Settings  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    art = write_fake_artifacts(tmp_path_factory.mktemp("fake_model"))
    app = create_app(Settings(model_dir=art, request_timeout_s=30.0))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# (schemathesis.pytest.from_fixture does not run under pytest 9, so each operation is driven with Hypothesis here.)
OPERATIONS = [("POST", "/v1/classify"), ("POST", "/v1/verify"), ("POST", "/v1/diagnose"), ("GET", "/v1/chars"),
              ("GET", "/healthz"), ("GET", "/version"), ("GET", "/model/model.onnx"), ("GET", "/model/templates.json")]


def test_every_operation_is_covered(api_schema):
    found = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


# Negative cases (schema violations) only exist where there is a body to break.
RUNS = [(m, p, "positive") for m, p in OPERATIONS] + [(m, p, "negative") for m, p in OPERATIONS if m == "POST"]


@pytest.mark.parametrize(("method", "path", "mode"), RUNS, ids=[f"{m} {p} {g}" for m, p, g in RUNS])
def test_api_conforms_and_never_fails(api_schema, method, path, mode):
    """Schema-valid requests and schema-violating ones (negative mode: those must be refused with a 4xx)."""
    operation = api_schema[path][method]
    checks = CHECKS + ([negative_data_rejection] if mode == "negative" else [])
    # Negative bodies only as JSON: a form field is always a string, so "null" or "123" sent for a string field
    # is valid data, yet schemathesis counts it as a type violation that must be refused.
    media = {"media_type": "application/json"} if mode == "negative" else {}
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode), **media))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def run(case):
        if mode == "negative":
            assume(not (case.media_type or "").startswith("multipart/"))
        case.call_and_validate(checks=checks)

    run()
