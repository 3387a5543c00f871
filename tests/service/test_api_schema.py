"""A bounded schemathesis run against the API's own OpenAPI document: generated
requests to every operation must never get a 5xx, and answers must match their
documented status codes and schemas. Nothing renders (the tenant has no characters and
no generated upload is a picture), and the event stream is left out (a long-lived
response)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from service_api_fixtures import api, api_settings, migrated_sqlite  # noqa: F401

EXAMPLES_PER_OPERATION = 30


def test_no_server_errors_and_documented_answers(api):  # noqa: F811
    _, headers = api.tenant("acme")
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app).exclude(path_regex=r"/events$")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance,
                                                             response_schema_conformance])

        run()
        checked.append(operation.label)
    assert len(checked) >= 15 and "POST /v1/renders" in checked
