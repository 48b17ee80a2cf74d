"""The OpenAPI 3.1 document of the read-only JSON API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

VERSION = "1.0.0"

#: Paths and schemas of other domains' API blueprints (e.g. evalplat.closing.api), added when they are imported.
EXTRA_PATHS: dict[str, Any] = {}
EXTRA_SCHEMAS: dict[str, Any] = {}

_NUM = {"type": "number"}
_INT = {"type": "integer"}
_STR = {"type": "string"}

RANK_FIELDS: dict[str, Any] = {
    "rank": {**_INT, "description": "Rank of the shrunk mean score (1 = best)."},
    "rank_low": {**_INT, "description": "Best rank of the simulation interval."},
    "rank_high": {**_INT, "description": "Worst rank of the simulation interval."},
    "id": {**_INT, "description": "Lawyer, agency or city (region) id."},
    "name": _STR,
    "n": {**_INT, "description": "Reviewed cases behind every figure of the row."},
    "mean": {**_NUM, "description": "Plain mean of the cases' result totals."},
    "estimate": {**_NUM, "description": "Empirical-Bayes shrunk mean."},
    "low": {**_NUM, "description": "Lower bound of the shrunk mean's interval."},
    "high": {**_NUM, "description": "Upper bound of the shrunk mean's interval."},
    "good": {**_INT, "description": "Cases graded excellent or good."},
    "share": {**_NUM, "description": "Share graded excellent or good (优良率)."},
    "share_low": {**_NUM, "description": "Wilson lower bound of the share."},
    "share_high": {**_NUM, "description": "Wilson upper bound of the share."},
    "vetoes": {**_INT, "description": "Cases with a veto item."},
}
RANK_REQUIRED = list(RANK_FIELDS)


def _page(item_ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["scope", "total", "offset", "limit", "items", "level"],
        "properties": {
            "scope": {"$ref": "#/components/schemas/Scope"},
            "level": {**_NUM, "description": "Confidence level of the intervals."},
            "weights": {"type": "object", "description": (
                "The source weights used: the jurisdiction, the version (0 = the peer review alone) and the "
                "weight of each source (peer_review, self_evaluation, followup, closing). Each item carries "
                "per source the columns <source>.n, .value, .weight, .contribution and .status, and the "
                "combined evidence that was shrunk.")},
            "total": _INT, "offset": _INT, "limit": _INT,
            "items": {"type": "array", "items": {"$ref": item_ref}},
        },
    }


def _get(summary: str, scope: str, schema: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "security": [{"bearer": [scope]}],
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema}"}}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
            },
        }
    }


SCOPE_PARAM = {"name": "scope", "in": "path", "required": True,
               "description": "A published campaign id, or 'all' for every published campaign with results (across years); a token limited to named campaigns sees only those.",
               "schema": {"type": "string", "pattern": "^([0-9]+|all)$"}}
PAGING = [
    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0, "default": 0}},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}},
]


def document(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 description of every /api/v1 route."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "evalplat read-only API", "version": VERSION,
                 "description": "Rankings, the expert pool (专家库) and assignment-priority weights (指派) from "
                                "the peer review of legal-aid case quality. Reviewer identities are never "
                                "exposed."},
        "servers": [{"url": server_url}],
        "paths": {
            "/api/v1/campaigns": _get("Published campaigns with results", "rankings:read", "CampaignList", []),
            "/api/v1/campaigns/{scope}/rankings/{entity}": _get(
                "Lawyers, agencies or cities ranked by shrunk mean score", "rankings:read", "RankingPage",
                [SCOPE_PARAM, {"name": "entity", "in": "path", "required": True,
                               "schema": {"type": "string", "enum": ["lawyers", "agencies", "cities"]}},
                 {"name": "order", "in": "query", "required": False,
                  "schema": {"type": "string", "enum": ["score", "share"], "default": "score"}}, *PAGING]),
            "/api/v1/campaigns/{scope}/expert-pool": _get(
                "Lawyers and the expert-pool decision with reasons", "expert_pool:read", "PoolPage",
                [SCOPE_PARAM, {"name": "eligible", "in": "query", "required": False,
                               "description": "Only members of the pool (default) or everyone ranked.",
                               "schema": {"type": "boolean", "default": True}}, *PAGING]),
            "/api/v1/campaigns/{scope}/priorities": _get(
                "Per-lawyer assignment-priority weights", "priorities:read", "PriorityPage", [SCOPE_PARAM, *PAGING]),
            **EXTRA_PATHS,
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token issued by an organiser; scopes "
                                                          "rankings:read, expert_pool:read, priorities:read."}},
            "responses": {"Error": {"description": "Error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "detail"],
                          "properties": {"error": _STR, "detail": _STR}},
                "Scope": {"type": "object", "required": ["campaign_ids", "years"],
                          "properties": {"campaign_ids": {"type": "array", "items": _INT},
                                         "years": {"type": "array", "items": _INT}}},
                "Campaign": {"type": "object", "required": ["id", "name", "year", "state"],
                             "properties": {"id": _INT, "name": _STR, "year": _INT, "state": _STR}},
                "CampaignList": {"type": "object", "required": ["items"],
                                 "properties": {"items": {"type": "array",
                                                          "items": {"$ref": "#/components/schemas/Campaign"}}}},
                "RankRow": {"type": "object", "required": RANK_REQUIRED, "properties": {
                    **RANK_FIELDS, "licence_no": _STR, "firm": _STR, "city": _STR}},
                "Reason": {"type": "object", "required": ["code", "params"],
                           "properties": {"code": {"type": "string", "enum": [
                               "too_few_cases", "lower_bound_below_threshold",
                               "share_lower_bound_below_threshold", "veto_on_record"]},
                               "params": {"type": "object"}}},
                "PoolRow": {"type": "object", "required": [*RANK_REQUIRED, "eligible", "reasons", "licence_no"],
                            "properties": {**RANK_FIELDS, "licence_no": _STR, "firm": _STR,
                                           "eligible": {"type": "boolean"},
                                           "reasons": {"type": "array",
                                                       "items": {"$ref": "#/components/schemas/Reason"}}}},
                "PriorityRow": {"type": "object",
                                "required": ["id", "name", "licence_no", "n", "estimate", "low", "eligible",
                                             "weight"],
                                "properties": {"id": _INT, "name": _STR, "licence_no": _STR, "n": _INT,
                                               "estimate": _NUM, "low": _NUM, "eligible": {"type": "boolean"},
                                               "weight": {**_NUM, "description": "Assignment-priority weight."}}},
                "RankingPage": _page("#/components/schemas/RankRow"),
                "PoolPage": _page("#/components/schemas/PoolRow"),
                "PriorityPage": _page("#/components/schemas/PriorityRow"),
                **EXTRA_SCHEMAS,
            },
        },
    }
