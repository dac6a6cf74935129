"""The OpenAPI 3.1 document of the JSON API, generated from the operations declared beside
each route (api/operations.py) and pydantic's JSON schema of their models; served at
`GET /api/openapi.json`, built once per app and cookie name.

tests/test_openapi.py checks that every route is described and fuzzes the app against the
document with schemathesis.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from api.etag import conditional_json
from api.operations import CACHED, HEADERS, NOT_MODIFIED, PUBLIC, Answer, Operation
from api.schemas import Conditional
from auth.middleware import cookie_name
from core.settings import Settings

PATH = "/api/openapi.json"
JSON = "application/json"
REF = "#/components/schemas/{model}"
Schema = dict[str, Any]
Mode = Literal["validation", "serialization"]

INFO: Schema = {
    "title": "SwipeSavvy Admin API",
    "version": "1.0.0",
    "description": "The staff back office's JSON API (sign-in, the dashboard's figures, "
    "search, row actions and approvals, and feature flags and segments managed as on their "
    "screens), "
    "the mobile apps' flag feed, and the OpenFeature Remote Evaluation Protocol (OFREP) v1 "
    'for OpenFeature SDKs. Errors are JSON: {"error", "message"} under /api, OFREP\'s '
    '{"errorCode", "errorDetails"} under /ofrep.',
}


def security_schemes(cookie: str) -> Schema:
    return {
        "staffBearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from login or refresh.",
        },
        "staffSession": {
            "type": "apiKey",
            "in": "cookie",
            "name": cookie,
            "description": "The admin screens' session, used when no Authorization header is sent.",
        },
        "appKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An app key issued with `swipesavvy-admin flags create-key`.",
        },
        "appBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The same app key, as 'Authorization: Bearer <key>'.",
        },
    }


class Components:
    """Every model the operations name, in the mode it is used in, as one `schemas` map."""

    def __init__(self, operations: Sequence[Operation]) -> None:
        used: set[tuple[type[BaseModel], Mode]] = set()
        for operation in operations:
            if operation.body:
                used.add((operation.body, "validation"))
            used.update((a.body, "serialization") for a in operation.responses.values() if a.body)
        refs, defs = models_json_schema(sorted(used, key=_named), ref_template=REF)
        titled = _titled(defs.get("$defs", {}))
        self.refs = {used: _retitled(ref, titled) for used, ref in refs.items()}
        self.schemas: Schema = {
            titled.get(name, name): _retitled(schema, titled)
            for name, schema in sorted(defs.get("$defs", {}).items())
        }

    def ref(self, model: type[BaseModel], mode: Mode) -> Schema:
        return self.refs[(model, mode)]


def _named(used: tuple[type[BaseModel], Mode]) -> tuple[str, str]:
    return used[0].__name__, used[1]


def _titled(schemas: Schema) -> dict[str, str]:
    """Schemas whose model sets a title of its own (OFREP's names), to be named by it:
    pydantic names them by class, `Model` or `Model-Input`/`Model-Output`."""
    renamed = {}
    for name, schema in schemas.items():
        base, dash, mode = name.rpartition("-")
        if not dash or mode not in ("Input", "Output"):
            base, dash, mode = name, "", ""
        title = schema.get("title", base)
        if title != base:
            renamed[name] = title + dash + mode
    return renamed


def _retitled(schema: Schema, titled: dict[str, str]) -> Schema:
    text = json.dumps(schema)
    for old, new in titled.items():
        text = text.replace(f'"{REF.format(model=old)}"', f'"{REF.format(model=new)}"')
    loaded: Schema = json.loads(text)
    return loaded


def parameters(model: type[BaseModel] | None, where: str) -> list[Schema]:
    """One parameter per field of `model`; a field left out takes its default, never null."""
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    listed = []
    for name, field in schema["properties"].items():
        description = field.pop("description", None)
        field.pop("title", None)
        options = field.pop("anyOf", None)
        if options:
            field |= next(option for option in options if option != {"type": "null"})
            if field.get("default") is None:
                field.pop("default", None)
        listed.append(
            {
                "name": name,
                "in": where,
                "required": where == "path" or name in required,
                "schema": field,
                **({"description": description} if description else {}),
            }
        )
    return listed


def response(answer: Answer, components: Components) -> Schema:
    described: Schema = {"description": answer.description}
    if answer.headers:
        described["headers"] = {name: HEADERS[name] for name in answer.headers}
    if answer.body:
        schema = components.ref(answer.body, "serialization")
        narrowed: Schema = {}
        if answer.codes:
            narrowed["properties"] = {answer.code_field: {"enum": list(answer.codes)}}
        if answer.required:
            narrowed["required"] = list(answer.required)
        if narrowed:
            schema = {"allOf": [schema, narrowed]}
        described["content"] = {answer.media_type: {"schema": schema}}
    return described


def described(operation: Operation, components: Components) -> Schema:
    schema: Schema = {
        "operationId": operation.name,
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": [{scheme: []} for scheme in operation.security],
        "responses": {
            str(status): response(answer, components)
            for status, answer in sorted(operation.responses.items())
        },
    }
    if operation.description:
        schema["description"] = operation.description
    listed = [
        *parameters(operation.path_params, "path"),
        *parameters(operation.query, "query"),
        *parameters(operation.headers, "header"),
    ]
    if listed:
        schema["parameters"] = listed
    if operation.body:
        schema["requestBody"] = {
            "required": operation.body_required,
            "content": {JSON: {"schema": components.ref(operation.body, "validation")}},
        }
    return schema


def document(operations: Sequence[Operation], cookie: str) -> Schema:
    components = Components(operations)
    paths: dict[str, Schema] = {}
    for operation in operations:
        paths.setdefault(operation.documented_path, {})[operation.method.lower()] = described(
            operation, components
        )
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in operations)],
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": security_schemes(cookie),
        },
    }


class OpenApiDocument(BaseModel):
    """The document this operation serves; its shape is OpenAPI's, not ours."""

    model_config = ConfigDict(extra="allow")


def serving(operations: Sequence[Operation]) -> Operation:
    """The operation answering the document of `operations` and itself."""
    built: dict[str, Schema] = {}

    async def openapi_json(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        cookie = cookie_name(settings)
        if cookie not in built:
            built[cookie] = document([*operations, itself], cookie)
        return conditional_json(request, built[cookie], "public, max-age=300")

    itself = Operation(
        method="GET",
        path=PATH,
        name="openapi",
        summary="This document",
        tag="Meta",
        responses={
            200: Answer("The OpenAPI document.", OpenApiDocument, headers=CACHED),
            304: NOT_MODIFIED,
        },
        security=PUBLIC,
        endpoint=openapi_json,
        headers=Conditional,
    )
    return itself
