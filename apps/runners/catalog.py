"""The capability catalog: every extension, runner and function as loaded from source, as JSON or Markdown."""

from __future__ import annotations

import json
from typing import Any

from apps.runners.loader import LoadResult
from apps.runners.registry import registry_load


def catalog_build(*, loaded: LoadResult | None = None) -> dict[str, Any]:
    """The catalog document; `counts` lets a reader (or a test) check nothing went missing."""
    loaded = loaded or registry_load()
    extensions: list[dict[str, Any]] = []
    for item in sorted(loaded.extensions, key=lambda e: e.extension.name):
        declared = item.extension
        extensions.append({
            "name": declared.name,
            "version": declared.version,
            "description": declared.description,
            "source": item.source,
            "trigger_words": list(declared.trigger_words),
            "capabilities": list(declared.capabilities),
            "settings_schema": declared.settings_schema,
            "runners": [
                {
                    "name": runner.name,
                    "description": runner.description,
                    "trigger_words": list(runner.trigger_words),
                    "functions": [
                        {
                            "name": spec.name,
                            "qualified_name": spec.qualified_name,
                            "resource": spec.resource,
                            "description": spec.description,
                            "input_schema": spec.input_schema,
                            "output_schema": spec.output_schema,
                            "idempotent": spec.idempotent,
                            "risk_tier": spec.risk_tier,
                            "trigger_words": list(spec.trigger_words),
                            "max_attempts": spec.max_attempts,
                        }
                        for spec in runner.functions
                    ],
                }
                for runner in item.runners
            ],
        })
    runners = [runner for extension in extensions for runner in extension["runners"]]
    return {
        "counts": {
            "extensions": len(extensions),
            "runners": len(runners),
            "functions": sum(len(runner["functions"]) for runner in runners),
        },
        "extensions": extensions,
        "errors": dict(sorted(loaded.errors.items())),
    }


def catalog_markdown(catalog: dict[str, Any]) -> str:
    counts = catalog["counts"]
    lines = [
        "# Legion capability catalog",
        "",
        f"{counts['extensions']} extensions, {counts['runners']} runners, {counts['functions']} functions.",
        "",
    ]
    for extension in catalog["extensions"]:
        capabilities = ", ".join(extension["capabilities"]) or "none"
        lines += [
            f"## {extension['name']} {extension['version']}",
            "",
            extension["description"],
            "",
            f"Capabilities: {capabilities}. Trigger words: {', '.join(extension['trigger_words']) or 'none'}.",
            "",
        ]
        for runner in extension["runners"]:
            lines += [f"### {extension['name']}.{runner['name']}", "", runner["description"], ""]
            lines += ["| function | description | inputs | idempotent | risk |", "| --- | --- | --- | --- | --- |"]
            for function in runner["functions"]:
                inputs = ", ".join(_input_summary(function["input_schema"])) or "none"
                summary = function["description"].splitlines()[0] if function["description"] else ""
                lines.append(
                    f"| `{function['qualified_name']}` | {summary} | {inputs} | "
                    f"{'yes' if function['idempotent'] else 'no'} | {function['risk_tier']} |"
                )
            lines.append("")
    if catalog["errors"]:
        lines += ["## Not loaded", ""] + [f"- `{name}`: {error}" for name, error in catalog["errors"].items()] + [""]
    return "\n".join(lines)


def catalog_json(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=2, sort_keys=False) + "\n"


def _input_summary(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    return [f"`{name}`" + ("" if name in required else "?") for name in schema.get("properties", {})]
