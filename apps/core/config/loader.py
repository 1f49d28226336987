"""Layered settings: built-in defaults < settings file (TOML) < .env < environment, then secret references."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from apps.core.config.schema import BASE_DIR, BY_KEY, GENERATED_FILES, SETTINGS, Context, Setting
from apps.core.config.secrets import (
    SecretReferenceError,
    VaultAccess,
    chain_resolve,
    reference_parse,
)
from apps.core.masking import MASK, credentials_mask


class ConfigurationError(Exception):
    """Settings cannot be loaded; the message names the source, the key and the problem."""


@dataclass(frozen=True)
class Raw:
    value: Any
    source: str


@dataclass(frozen=True)
class Config:
    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def mode(self) -> str:
        return str(self.values["mode"])

    @property
    def home(self) -> Path:
        return Path(self.values["home"])

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, shown value, source) for every setting, secrets masked: settings the schema marks secret wholly,
        the others wherever a credential sits inside them (a provider's `api_key` or `Authorization` header)."""
        rows = []
        for setting in SETTINGS:
            masked = credentials_mask(self.values.get(setting.key), schema={"writeOnly": setting.secret})
            shown = masked if masked == MASK else json.dumps(masked)
            rows.append((setting.key, shown, self.sources.get(setting.key, "default")))
        return rows


def config_load(environ: Mapping[str, str] | None = None) -> Config:
    """Read every layer, coerce types, resolve references and check what the mode requires.

    Pure apart from reading files, Vault and (in lite mode only) creating missing generated secrets.
    """
    environ = os.environ if environ is None else environ
    layers = _layers(environ)
    raw: dict[str, Raw] = {}
    for layer in layers:
        raw.update(layer)
    mode = _coerce(BY_KEY["mode"], raw["mode"]) if "mode" in raw else "lite"
    home = Path(_coerce(BY_KEY["home"], raw["home"])) if "home" in raw else Path(str(BY_KEY["home"].default))
    ctx = Context(mode=mode, home=home)
    vault = _vault_access(raw, ctx)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        entry = raw.get(setting.key)
        if entry is None:
            default = setting.default_for(ctx)
            if default is None:
                if mode in setting.required_in:
                    raise ConfigurationError(
                        f"setting '{setting.key}' is required in {mode} mode: set the environment variable "
                        f"{setting.env_names[-1]} or the key '{setting.key}' in the settings file"
                    )
                values[setting.key] = None
                continue
            if mode == "lite":
                _generate_missing(setting, default)
            entry = Raw(default, "default")
        values[setting.key] = _resolve(setting, entry, vault)
        sources[setting.key] = entry.source
    return Config(values=values, sources=sources)


def _layers(environ: Mapping[str, str]) -> list[dict[str, Raw]]:
    """The file layers are found at LEGION_SETTINGS_FILE / LEGION_ENV_FILE; set to "" they are skipped."""
    settings_file = environ.get("LEGION_SETTINGS_FILE")
    toml_path = Path(settings_file) if settings_file else BASE_DIR / "legion.toml"
    if settings_file and not toml_path.is_file():
        raise ConfigurationError(f"settings file {toml_path} (LEGION_SETTINGS_FILE) does not exist")
    env_file = environ.get("LEGION_ENV_FILE")
    env_path = Path(env_file) if env_file else BASE_DIR / ".env"
    return [
        _toml_layer(toml_path) if settings_file != "" and toml_path.is_file() else {},
        _env_layer(dict(dotenv_values(env_path)), str(env_path)) if env_file != "" and env_path.is_file() else {},
        _env_layer(dict(environ), "environment"),
    ]


def _toml_layer(path: Path) -> dict[str, Raw]:
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"settings file {path}: not valid TOML: {exc}") from exc
    layer: dict[str, Raw] = {}
    _flatten(document, "", path, layer)
    return layer


def _flatten(table: Mapping[str, Any], prefix: str, path: Path, out: dict[str, Raw]) -> None:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if key in BY_KEY:
            out[key] = Raw(value, f"settings file {path}")
        elif isinstance(value, dict) and any(k.startswith(key + ".") for k in BY_KEY):
            _flatten(value, key + ".", path, out)
        else:
            raise ConfigurationError(f"settings file {path}: unknown setting '{key}'")


def _env_layer(variables: Mapping[str, str | None], where: str) -> dict[str, Raw]:
    layer: dict[str, Raw] = {}
    for setting in SETTINGS:
        for name in setting.env_names:
            value = variables.get(name)
            if value is not None and value != "":
                layer[setting.key] = Raw(value, f"{where}, variable {name}")
                break
    return layer


def _vault_access(raw: Mapping[str, Raw], ctx: Context) -> VaultAccess:
    """Vault's own address and token may come from env:// or file:// but not from Vault itself."""
    no_vault = VaultAccess(addr=None, token=None)
    resolved = {}
    for key in ("vault.addr", "vault.token"):
        entry = raw.get(key)
        resolved[key] = _resolve(BY_KEY[key], entry, no_vault) if entry else None
    return VaultAccess(addr=resolved["vault.addr"], token=resolved["vault.token"])


def _resolve(setting: Setting, entry: Raw, vault: VaultAccess) -> Any:
    value = entry.value
    if isinstance(value, str) and setting.kind is not list and value.startswith("["):
        value = _chain_from_text(value)
    try:
        if isinstance(value, list) and setting.kind is not list:
            return _coerce(setting, Raw(_chain(setting, entry, value, vault), entry.source))
        if isinstance(value, str) and setting.kind in (dict, list) and value.lstrip()[:1] in "[{":
            value = _json(setting, entry)
        if isinstance(value, str):
            return _coerce(setting, Raw(_chain(setting, entry, [value], vault), entry.source))
        if isinstance(value, dict):
            return _coerce(setting, Raw({k: _leaf(setting, entry, v, vault) for k, v in value.items()}, entry.source))
        if isinstance(value, list):
            return _coerce(setting, Raw([_leaf(setting, entry, v, vault) for v in value], entry.source))
        return _coerce(setting, entry)
    except SecretReferenceError as exc:
        raise ConfigurationError(f"{entry.source}: setting '{setting.key}': malformed reference {exc}") from exc


def _chain_from_text(text: str) -> str | list[str]:
    """A JSON list of strings in an environment variable is a fallback chain; anything else is literal."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return text
    return parsed if isinstance(parsed, list) and all(isinstance(c, str) for c in parsed) else text


def _leaf(setting: Setting, entry: Raw, value: Any, vault: VaultAccess) -> Any:
    return _chain(setting, entry, [value], vault) if isinstance(value, str) else value


def _chain(setting: Setting, entry: Raw, candidates: list[Any], vault: VaultAccess) -> str:
    if not all(isinstance(c, str) for c in candidates):
        raise ConfigurationError(f"{entry.source}: setting '{setting.key}': a fallback chain holds only strings")
    for candidate in candidates:
        reference_parse(candidate)  # malformed references fail even when an earlier one would win
    resolution = chain_resolve(candidates, vault=vault)
    if resolution.value is None:
        raise ConfigurationError(f"{entry.source}: setting '{setting.key}': no reference resolved: {resolution.reason}")
    return resolution.value


def _json(setting: Setting, entry: Raw) -> Any:
    try:
        return json.loads(entry.value)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{entry.source}: setting '{setting.key}': not valid JSON: {exc}") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(setting: Setting, entry: Raw) -> Any:
    """Turn a layer's value into the setting's type; strings from .env and the environment are parsed."""
    value, kind = entry.value, setting.kind
    problem = None
    if kind is bool and isinstance(value, str):
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        problem = f"expected true or false, got '{value}'"
    elif kind is int and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            problem = f"expected an integer, got '{value}'"
    elif kind is list and isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    elif kind is dict and isinstance(value, str):
        problem = "expected a table (TOML) or a JSON object"
    elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        problem = f"expected {kind.__name__}, got {type(value).__name__}"
    if problem is None and setting.choices and value not in setting.choices:
        problem = f"expected one of {', '.join(setting.choices)}, got '{value}'"
    if problem:
        raise ConfigurationError(f"{entry.source}: setting '{setting.key}': {problem}")
    return value


def _generate_missing(setting: Setting, default: Any) -> None:
    """Create lite-mode secret files named by defaults; an existing file is never overwritten."""
    refs = default.values() if isinstance(default, dict) else [default]
    for ref_text in refs:
        ref = reference_parse(ref_text) if isinstance(ref_text, str) else None
        if ref is None or ref.scheme != "file":
            continue
        path = Path(ref.target)
        generator = setting.generate or GENERATED_FILES.get(path.name)
        if generator is None or path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generator())
