"""The sales endpoints in the OpenAPI document, with their filters, the idempotency header
and money as decimal strings; and authentication on every one of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/leads": {"get", "post"},
    "/api/v1/leads/{lead_id}": {"get", "patch"},
    "/api/v1/leads/{lead_id}/convert": {"post"},
    "/api/v1/pipelines": {"get", "post"},
    "/api/v1/pipelines/{pipeline_id}": {"get", "patch", "delete"},
    "/api/v1/pipelines/{pipeline_id}/stages": {"post"},
    "/api/v1/pipelines/{pipeline_id}/stages/reorder": {"post"},
    "/api/v1/stages/{stage_id}": {"get", "patch", "delete"},
    "/api/v1/deals": {"get", "post"},
    "/api/v1/deals/{deal_id}": {"get", "patch", "delete"},
    "/api/v1/deals/{deal_id}/move": {"post"},
    "/api/v1/products": {"get", "post"},
    "/api/v1/products/{product_id}": {"get", "patch"},
    "/api/v1/activities": {"get", "post"},
    "/api/v1/activities/{activity_id}": {"get", "patch", "delete"},
    "/api/v1/activities/{activity_id}/complete": {"post"},
    "/api/v1/quotes": {"get", "post"},
    "/api/v1/quotes/{document_id}": {"get"},
    "/api/v1/quotes/{document_id}/pdf": {"get"},
    "/api/v1/quotes/{document_id}/send": {"post"},
    "/api/v1/invoices": {"get", "post"},
    "/api/v1/invoices/{document_id}": {"get"},
    "/api/v1/invoices/{document_id}/pdf": {"get"},
    "/api/v1/invoices/{document_id}/send": {"post"},
    "/api/v1/invoices/{document_id}/payments": {"get", "post"},
}


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_every_sales_path_and_method_is_documented(schema: dict[str, Any]) -> None:
    for path, methods in PATHS.items():
        assert path in schema["paths"], path
        assert set(schema["paths"][path]) == methods, path
    operation_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_list_filters_and_the_idempotency_header_are_documented(schema: dict[str, Any]) -> None:
    def names(path: str, method: str) -> set[str]:
        return {p["name"] for p in schema["paths"][path][method].get("parameters", [])}

    assert {"pipeline", "stage", "owner", "tag", "q", "sort", "cursor", "limit"} <= names(
        "/api/v1/deals", "get"
    )
    assert {"status", "owner", "source", "q"} <= names("/api/v1/leads", "get")
    assert {"kind", "assignee", "due_from", "due_to", "done", "deal"} <= names(
        "/api/v1/activities", "get"
    )
    for path, method in (("/api/v1/deals", "post"), ("/api/v1/deals/{deal_id}/move", "post"),
                         ("/api/v1/invoices/{document_id}/payments", "post")):  # fmt: skip
        assert "Idempotency-Key" in names(path, method)
    pdf = schema["paths"]["/api/v1/quotes/{document_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]


def test_money_is_a_decimal_string_in_the_schema(schema: dict[str, Any]) -> None:
    deal = schema["components"]["schemas"]["DealOut"]["properties"]["amount"]
    assert deal["type"] == "string" and deal["format"] == "decimal"
    deal_in = schema["components"]["schemas"]["DealIn"]
    assert deal_in["additionalProperties"] is False
    assert deal_in["properties"]["lines"]["type"] == "array"
    assert "deals" in schema["info"]["description"]


@pytest.mark.parametrize("path", sorted(p for p, m in PATHS.items() if "get" in m))
def test_no_credentials_is_401(client: Client, path: str) -> None:
    response = client.get(path.format(**{k: 1 for k in ("lead_id", "pipeline_id", "stage_id",
                          "deal_id", "product_id", "activity_id", "document_id")}))  # fmt: skip
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
