"""LLM transformations: a relationship's instruction, carried out by a model behind Legion's LLM proxy.

The model sees the instruction and the same variables a CEL transformation sees (`result`, `payload`,
`index`), is asked for JSON constrained by the action function's input schema (`response_format`
json_schema, which the proxy routes to models with the `json` capability), and its answer is parsed and
validated against that schema before any child run is created. Temperature is 0.

Why over HTTP (`POST <chains.llm.url>/v1/chat/completions`) and not the proxy's service layer in-process:
the service layer is async and keeps a runtime per event loop (pooled provider clients, breakers), while
workers are synchronous Celery processes; calling it in-process would build and tear down that runtime per
call and put every provider credential into every worker. Over HTTP the call is one synchronous request to
the process that already owns the providers, and it goes through everything a client gets there: API-key
authentication and RBAC on models, routing by tier, breakers, failover and the ledger (which then records
chain traffic under the key in `chains.llm.api_key`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
from django.conf import settings

from apps.chains.expressions import ExpressionError

MAX_INSTRUCTION_CHARS = 4000
SYSTEM_PROMPT = (
    "You transform JSON data for an automated job. Follow the instruction using the data given. "
    "Answer with one JSON object that fits the required schema and nothing else."
)


def check_llm_instruction(instruction: str) -> None:
    """An LLM transformation's instruction must be written out, and short enough to leave room for the data."""
    if not instruction.strip():
        raise ExpressionError("an LLM transformation needs an instruction")
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise ExpressionError(f"the instruction has {len(instruction)} characters; at most {MAX_INSTRUCTION_CHARS}")


def llm_transform(*, instruction: str, variables: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The payload the model builds from `variables` as `instruction` says, valid against `schema`.

    Raises ExpressionError (the child run fails with `transformation_error`) when the proxy cannot be
    reached or refuses, the answer is cut short, is not a JSON object, or does not fit the schema.
    One request, no retry here: the proxy already fails over between providers.
    """
    config = settings.CONFIG
    url = f"{proxy_base_url()}/v1/chat/completions"
    body = {
        "model": config["chains.llm.model"],
        "temperature": 0,
        "max_tokens": config["chains.llm.max_tokens"],
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Instruction:\n{instruction}\n\nData:\n{json.dumps(variables)}"},
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "payload", "schema": schema}},
    }
    headers = {"Authorization": f"Bearer {config['chains.llm.api_key']}"} if config["chains.llm.api_key"] else {}
    try:
        response = httpx.post(url, json=body, headers=headers, timeout=config["chains.llm.timeout_ms"] / 1000,
                              trust_env=False)
    except httpx.HTTPError as exc:
        raise ExpressionError(f"the LLM proxy at {url} could not be reached: {type(exc).__name__}") from exc
    return _payload(_answer(response), schema)


def proxy_base_url() -> str:
    """`chains.llm.url`, else where this deployment serves the proxy: the web in lite mode, `legion proxy` in full."""
    config = settings.CONFIG
    if config["chains.llm.url"]:
        return str(config["chains.llm.url"]).rstrip("/").removesuffix("/v1")
    host, port = ((config["web.host"], config["web.port"]) if config["mode"] == "lite"
                  else (config["proxy.host"], config["proxy.port"]))
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    return f"http://{host}:{port}"


def _answer(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200 or not isinstance(data, dict):
        error = data.get("error") if isinstance(data, dict) else None
        detail = (f"{error.get('code') or error.get('type')}: {error.get('message')}" if isinstance(error, dict)
                  else response.text[:200])
        raise ExpressionError(f"the LLM proxy answered {response.status_code} ({detail})")
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"] or ""
    except (KeyError, IndexError, TypeError) as exc:
        raise ExpressionError("the LLM proxy's answer has no message") from exc
    if choice.get("finish_reason") == "length":
        raise ExpressionError(f"the model's answer was cut off at chains.llm.max_tokens: {str(content)[:120]!r}…")
    return str(content)


def _payload(content: str, schema: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError as exc:
        raise ExpressionError(f"the model did not answer with JSON: {content[:120]!r}") from exc
    if not isinstance(value, dict):
        raise ExpressionError(f"the model built {type(value).__name__}, not an object")
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first.absolute_path)
        if not where and first.validator == "required":
            where = str(first.message).split("'")[1] if "'" in first.message else ""
        raise ExpressionError(f"the model's payload does not fit the action's input: "
                              f"{where + ': ' if where else ''}{first.message}")
    return value
