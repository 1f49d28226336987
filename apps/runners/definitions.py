"""What an extension declares: its metadata, and runner functions with schemas derived from type hints."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic

CAPABILITIES = ("network_outbound", "shell_execute", "filesystem_write", "secrets")
RISK_TIERS = ("low", "standard", "high", "critical")
RiskTier = Literal["low", "standard", "high", "critical"]

# Set on a decorated function; the loader finds runner functions by it.
SPEC_ATTRIBUTE = "__legion_function__"

# Marks a parameter (`Annotated[str, Sensitive]`) as JSON Schema `writeOnly`: callers send it, and readers of the
# run without `read_content` on the function see it masked (docs/jobs.md, "Sensitive fields").
Sensitive = pydantic.Field(json_schema_extra={"writeOnly": True})


class FunctionInputError(Exception):
    """A payload does not fit a function's input schema; `field` is the dotted path of the first bad field."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class PermanentError(Exception):
    """Raised by a runner function when retrying cannot help (bad data, refused by the far side)."""


@dataclass(frozen=True)
class Extension:
    """An extension's declaration, the `EXTENSION` of its package's `__init__`."""

    name: str
    version: str
    description: str
    trigger_words: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    settings_schema: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"extension {self.name}: unknown capabilities {sorted(unknown)}")


# "May this run's principal perform ACTION on RESOURCE?" The engine binds one to RBAC for each run.
Authorizer = Callable[[str, str], bool]


def _refuse(action: str, resource: str) -> bool:
    return False


@dataclass
class RunContext:
    """What a running function may know about its run; declare a `ctx: RunContext` parameter to receive it.

    `idempotency_key` is stable across retries and redeliveries of the same run: use it to make an
    external side effect happen once even when the function itself runs twice.

    `principal` names whom the run acts for (who started its root run; "" for none), and `authorize`
    asks RBAC whether that principal may do something the function guards itself (the http extension
    asks before reaching a non-public address). Without a principal, or without an `authorizer` from
    the engine, every question is refused.
    """

    run_id: str
    idempotency_key: str
    attempt: int
    function: str
    principal: str = ""
    log_lines: list[dict[str, Any]] = field(default_factory=list)
    authorizer: Authorizer = field(default=_refuse, repr=False)

    def log(self, message: str, *, level: str = "info") -> None:
        self.log_lines.append({"level": level, "message": message})

    def authorize(self, action: str, resource: str) -> bool:
        """May the run's principal perform `action` on `resource`?"""
        return self.authorizer(action, resource)


@dataclass(frozen=True)
class FunctionSpec:
    """A runner function as declared in source; `runner` and `extension` are filled in by the loader."""

    name: str
    callable: Callable[..., Any]
    description: str
    input_model: type[pydantic.BaseModel]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    idempotent: bool
    risk_tier: str
    trigger_words: tuple[str, ...]
    max_attempts: int
    backoff_seconds: float
    wants_context: bool
    runner: str = ""
    extension: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.extension}.{self.runner}.{self.name}"

    @property
    def resource(self) -> str:
        """The RBAC resource an invocation is authorized against."""
        return f"runners/{self.extension}/{self.runner}/{self.name}"

    def validate(self, payload: Any) -> dict[str, Any]:
        """Check `payload` against the input schema; the result is what the function is called with."""
        if not isinstance(payload, dict):
            raise FunctionInputError(None, f"payload must be a JSON object, got {type(payload).__name__}")
        try:
            model = self.input_model.model_validate(payload)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or None
            raise FunctionInputError(where, first["msg"]) from exc
        return {name: getattr(model, name) for name in type(model).model_fields}

    def call(self, payload: Any, ctx: RunContext) -> Any:
        arguments = self.validate(payload)
        if self.wants_context:
            arguments["ctx"] = ctx
        return self.callable(**arguments)


def runner_function(
    *,
    description: str | None = None,
    idempotent: bool = False,
    risk_tier: RiskTier = "standard",
    trigger_words: tuple[str, ...] = (),
    max_attempts: int = 1,
    backoff_seconds: float = 1.0,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a runner function. Parameters become the input schema, the return annotation the output shape.

    `max_attempts` counts the first try; attempt n waits `backoff_seconds * 2**(n-1)` before it starts.
    """
    if risk_tier not in RISK_TIERS:
        raise ValueError(f"risk_tier must be one of {RISK_TIERS}")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(function, include_extras=True)
        fields: dict[str, Any] = {}
        wants_context = False
        for name, parameter in inspect.signature(function).parameters.items():
            if hints.get(name) is RunContext:
                wants_context = True
                continue
            if name not in hints:
                raise TypeError(f"runner function {function.__qualname__}: parameter '{name}' has no type hint")
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[name] = (hints[name], default)
        model_name = "".join(part.title() for part in function.__name__.split("_")) + "Input"
        input_model = pydantic.create_model(
            model_name, __config__=pydantic.ConfigDict(extra="forbid"), **fields
        )
        output_schema = pydantic.TypeAdapter(hints.get("return", Any)).json_schema()
        spec = FunctionSpec(
            name=function.__name__,
            callable=function,
            description=description or inspect.getdoc(function) or "",
            input_model=input_model,
            input_schema=input_model.model_json_schema(),
            output_schema=output_schema,
            idempotent=idempotent,
            risk_tier=risk_tier,
            trigger_words=trigger_words,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
            wants_context=wants_context,
        )
        setattr(function, SPEC_ATTRIBUTE, spec)
        return function

    return decorate
