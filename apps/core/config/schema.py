"""Every setting Legion reads: its key, type, default per mode, environment names and whether it is secret."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[3]
MODES = ("lite", "full")


@dataclass(frozen=True)
class Context:
    """What a default may depend on: the mode and the data directory, both settled before other keys."""

    mode: str
    home: Path


Default = Any | Callable[[Context], Any]


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type
    default: Default = None
    doc: str = ""
    aliases: tuple[str, ...] = ()
    required_in: tuple[str, ...] = ()
    secret: bool = False
    choices: tuple[str, ...] = ()
    # Lite mode creates a missing secret file named by the default, so a newcomer configures nothing.
    generate: Callable[[], str] | None = field(default=None, compare=False)

    @property
    def env_names(self) -> tuple[str, ...]:
        return ("LEGION_" + self.key.upper().replace(".", "_"), *self.aliases)

    def default_for(self, ctx: Context) -> Any:
        return self.default(ctx) if callable(self.default) else self.default


def _token() -> str:
    return secrets.token_urlsafe(48)


def _aes_key() -> str:
    import base64

    return base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_file(name: str) -> Callable[[Context], str | None]:
    """Lite keeps generated secrets under <home>/secrets; full mode has no default and must be told."""
    return lambda ctx: f"file://{ctx.home / 'secrets' / name}" if ctx.mode == "lite" else None


SETTINGS: tuple[Setting, ...] = (
    Setting("mode", str, "lite", "lite (zero services) or full (PostgreSQL, broker, Redis)", choices=MODES),
    Setting("home", str, str(BASE_DIR / "var"), "data directory: SQLite file, broker folders, spool, lite secrets"),
    Setting("debug", bool, False, "Django debug pages; never in production"),
    Setting(
        "secret_key", str, _secret_file("django_secret_key"), "Django SECRET_KEY",
        aliases=("SECRET_KEY",), required_in=("full",), secret=True, generate=_token,
    ),
    Setting("allowed_hosts", list, ["localhost", "127.0.0.1", "[::1]"], "host names the web and proxy answer to"),
    Setting(
        "database.url", str,
        lambda ctx: f"sqlite:///{ctx.home / 'legion.sqlite3'}" if ctx.mode == "lite" else None,
        "database URL (PostgreSQL with pgvector in full mode)", aliases=("DATABASE_URL",), required_in=("full",),
        secret=True,
    ),
    Setting(
        "broker.url", str, lambda ctx: "filesystem://" if ctx.mode == "lite" else None,
        "Celery broker URL (amqp:// for RabbitMQ, redis://)", aliases=("BROKER_URL",), required_in=("full",),
        secret=True,
    ),
    Setting(
        "redis.url", str, None, "Redis for cache, channel layer and shared proxy state",
        aliases=("REDIS_URL",), required_in=("full",), secret=True,
    ),
    Setting("spool.dir", str, lambda ctx: str(ctx.home / "spool"), "where messages wait while the broker is down"),
    Setting("web.host", str, "127.0.0.1", "address `legion web` and `legion start` listen on"),
    Setting("web.port", int, 8000, "port of the web, admin and API (and the proxy in lite mode)"),
    Setting("web.max_body_bytes", int, 2621440,
            "largest request body the web (admin, REST API, webhooks) accepts; refused before it is read"),
    Setting("proxy.host", str, "127.0.0.1", "address `legion proxy` listens on"),
    Setting("proxy.port", int, 8100, "port of `legion proxy` in full mode"),
    Setting("vault.addr", str, None, "HashiCorp Vault address for vault:// references", aliases=("VAULT_ADDR",)),
    Setting("vault.token", str, None, "Vault token", aliases=("VAULT_TOKEN",), secret=True),
    Setting(
        "crypto.keys", dict, lambda ctx: {"lite-1": f"file://{ctx.home / 'secrets' / 'aes_key_lite-1'}"}
        if ctx.mode == "lite" else None,
        "AES-256-GCM keys at rest: key id -> base64 of 32 bytes", required_in=("full",), secret=True,
    ),
    Setting(
        "crypto.active_key", str, lambda ctx: "lite-1" if ctx.mode == "lite" else None,
        "key id that encrypts new data (others still decrypt)", required_in=("full",),
    ),
    Setting(
        "jwt.secret", str, _secret_file("jwt_secret"), "HS256 signing key for service tokens",
        required_in=("full",), secret=True, generate=_token,
    ),
    Setting("jwt.issuer", str, "legion", "issuer claim of service tokens"),
    Setting("jwt.ttl_seconds", int, 3600, "default lifetime of a service token"),
    Setting("api.page_size", int, 50, "default page size of list endpoints"),
    Setting("api.max_page_size", int, 500, "largest page a client may ask for"),
    Setting("api.max_json_depth", int, 64, "deepest nesting of arrays and objects a REST request body may have"),
    # Job engine (apps.runners, apps.chains): the disk spool, chain execution and runner limits.
    Setting("spool.max_file_bytes", int, 10 * 1024 * 1024, "a spool file is rotated once it is this large"),
    Setting("spool.max_total_bytes", int, 512 * 1024 * 1024, "oldest spool files are evicted beyond this total"),
    Setting("spool.max_files", int, 100, "oldest spool files are evicted beyond this many"),
    Setting("spool.max_age_seconds", int, 72 * 3600, "spool files older than this are evicted"),
    Setting("spool.publish_timeout_ms", int, 500, "deadline of each broker step (connect, send, confirm)"),
    Setting("spool.retry_after_ms", int, 2000, "after a failed publish, spool at once for this long"),
    Setting("spool.drain_interval_seconds", int, 5, "how often the drainer probes the broker while spooled"),
    Setting("chains.queue", str, "celery", "Celery queue task runs are published to"),
    Setting("chains.fanout_limit", int, 1000, "most child runs one list result may start"),
    Setting("chains.max_payload_bytes", int, 1024 * 1024, "largest payload or result of a task run (JSON)"),
    Setting("chains.step_writes_synchronous", bool, False,
            "wait for PostgreSQL to flush every claim and finish to disk (off: a database crash can forget the "
            "last moments of them; the run sweeper runs those again)"),
    Setting("chains.sweep_after_seconds", int, 300,
            "a queued run due this long, or a running run whose worker is gone, started this long ago, "
            "is published again (its claim turns a duplicate away)"),
    Setting("chains.relationships_cache_ms", int, 1000,
            "how long a worker reuses a function's relationships; edits made in other processes apply within it"),
    # CEL (apps/chains/expressions_shape.py, expressions_sandbox.py): the parser crashes near 15,000 chained
    # operators, and evaluation holds the GIL with no budget of its own.
    Setting("chains.cel.max_length", int, 4096, "longest CEL condition or transformation, in characters"),
    Setting("chains.cel.max_nesting", int, 32, "deepest nesting of brackets in a CEL expression"),
    Setting("chains.cel.max_operators", int, 512, "most operators (member access included) in a CEL expression"),
    Setting("chains.cel.max_comprehension_nesting", int, 2,
            "deepest nesting of CEL comprehensions (all, exists, exists_one, map, filter)"),
    Setting("chains.cel.timeout_ms", int, 1000,
            "longest evaluation of a CEL expression that may be slow (it runs in a child process, killed after this)"),
    Setting("chains.cel.memory_mb", int, 512, "address space of each CEL evaluator process"),
    Setting("chains.cel.evaluators", int, 2, "most CEL evaluator processes each Legion process keeps"),
    Setting("runners.max_deliveries", int, 3, "deliveries of one run that die mid-task before it is dead-lettered"),
    Setting("runners.max_backoff_seconds", int, 3600, "cap on the wait before a retry"),
    # LLM proxy (proxy/): provider catalog, aliases, request limits, deadlines, breakers. See docs/proxy.md.
    Setting("proxy.providers", list, [], "LLM provider instances and their models (tables; see docs/proxy.md)"),
    Setting("proxy.aliases", dict, {}, "model aliases -> list of model ids or provider/model pairs"),
    Setting("proxy.max_body_bytes", int, 16 * 1024 * 1024, "largest request body the proxy accepts"),
    Setting("proxy.max_messages", int, 2000, "most messages one request may carry"),
    Setting("proxy.max_tools", int, 256, "most tools one request may declare"),
    Setting("proxy.max_json_depth", int, 64, "deepest nesting of arrays and objects a proxy request body may have"),
    Setting("proxy.max_attempts", int, 3, "most provider attempts per request (open breakers do not count)"),
    Setting("proxy.deadline.connect_ms", int, 5000, "per attempt: time to connect to a provider"),
    Setting("proxy.deadline.first_token_ms", int, 60000, "per attempt: time from sending to the first event"),
    Setting("proxy.deadline.idle_ms", int, 30000, "per attempt: longest silence between stream events"),
    Setting("proxy.deadline.total_ms", int, 600000, "per request: all attempts together"),
    Setting("proxy.keepalive_ms", int, 5000, "silence after which a stream sends a keep-alive"),
    Setting("proxy.retry_after_max_seconds", int, 300, "longest Retry-After the proxy honours for a provider"),
    Setting("proxy.retry.backoff_base_ms", int, 500,
            "retrying the same provider when no other is left: first backoff ceiling (doubles per retry, full jitter)"),
    Setting("proxy.retry.backoff_max_ms", int, 8000, "retrying the same provider: longest backoff ceiling"),
    Setting(
        "proxy.breaker.store", str, "auto", "circuit-breaker state: auto (redis in full mode), memory, redis",
        choices=("auto", "memory", "redis"),
    ),
    Setting("proxy.breaker.failure_threshold", int, 3, "failures within the window that open a breaker"),
    Setting("proxy.breaker.window_seconds", int, 60, "window in which breaker failures are counted"),
    Setting("proxy.breaker.cooldown_seconds", int, 30, "time an open breaker waits before a half-open probe"),
    Setting(
        "proxy.allow_anonymous", bool, lambda ctx: ctx.mode == "lite",
        "serve requests that carry no credential as the `anonymous` principal (lite: a laptop's own proxy); "
        "a credential presented must be a valid Legion key",
    ),
    Setting("proxy.auth_cache_seconds", int, 60, "how long a verified API key is trusted before it is re-read"),
    Setting("proxy.ledger.queue_size", int, 10000, "request events buffered for the ledger sink before dropping"),
    # The bundled local model (proxy/local_model.py): llama.cpp's llama-server with SmolLM2-135M, the local tier.
    Setting(
        "proxy.local_model.enabled", bool, lambda ctx: ctx.mode == "lite",
        "`legion start` (and `legion proxy`) start the bundled local model when it is installed",
    ),
    Setting(
        "proxy.local_model.url", str, None,
        "OpenAI base URL (with /v1) of a running llama-server with the bundled model, registered as the local "
        "tier; `legion start` and `legion proxy` set it for the server they start",
    ),
    Setting("proxy.local_model.port", int, 0, "loopback port of the started llama-server; 0 picks a free one"),
    Setting("proxy.local_model.ctx_size", int, 2048, "context window of the local model (llama-server --ctx-size)"),
    Setting("proxy.local_model.threads", int, 2, "CPU threads llama-server generates with"),
    Setting(
        "proxy.local_model.startup_timeout_seconds", int, 60,
        "longest wait for llama-server to load the model, answer /health and a one-token warm-up completion",
    ),
    # Extensions (extensions/<name>, see docs/jobs.md) and LLM transformations of chain relationships.
    Setting(
        "extensions.http.timeout_ms", int, 10000,
        "http: deadline of a whole request, redirects and body included (a call may ask for less)",
    ),
    Setting(
        "extensions.http.max_response_bytes", int, 1024 * 1024,
        "http: largest response body read (a call may ask for less)",
    ),
    Setting("extensions.http.max_redirects", int, 5, "http: most redirects followed (each target checked again)"),
    Setting("extensions.http.ca_file", str, None, "http: PEM file of the CA certificates to trust (unset: certifi's)"),
    Setting("extensions.smtp.host", str, None, "smtp: mail server host (unset: the smtp extension refuses to send)"),
    Setting("extensions.smtp.port", int, 587, "smtp: mail server port"),
    Setting(
        "extensions.smtp.security", str, "starttls", "smtp: none, starttls or tls (implicit TLS, port 465)",
        choices=("none", "starttls", "tls"),
    ),
    Setting("extensions.smtp.username", str, None, "smtp: login name (unset: no AUTH)"),
    Setting("extensions.smtp.password", str, None, "smtp: login password", secret=True),
    Setting("extensions.smtp.sender", str, None, "smtp: the From address of every message sent"),
    Setting("extensions.smtp.timeout_ms", int, 10000, "smtp: deadline of each step with the server"),
    Setting("extensions.smtp.max_recipients", int, 50, "smtp: most recipients (to, cc and bcc) of one message"),
    Setting(
        "extensions.postgres.connections", dict, {},
        "postgres: connection name -> PostgreSQL URL (each may be a secret reference)", secret=True,
    ),
    Setting("extensions.postgres.writable", list, [], "postgres: names of connections that may run writes"),
    Setting("extensions.postgres.statement_timeout_ms", int, 30000, "postgres: statement_timeout of each query"),
    Setting("extensions.postgres.max_rows", int, 1000, "postgres: most rows one query returns"),
    Setting(
        "extensions.redis.connections", dict, {},
        "redis: connection name -> Redis URL (each may be a secret reference)", secret=True,
    ),
    Setting("extensions.redis.timeout_ms", int, 5000, "redis: connect and command timeout"),
    Setting(
        "extensions.webhook.keys", dict, {},
        "webhook: signing-key name -> secret shared with the receiver (each may be a secret reference)", secret=True,
    ),
    Setting("extensions.webhook.timeout_ms", int, 10000, "webhook: deadline of one delivery"),
    Setting(
        "chains.llm.url", str, None,
        "proxy base URL for LLM transformations (unset: the web's address in lite mode, proxy.host:proxy.port in full)",
    ),
    Setting("chains.llm.api_key", str, None, "API key LLM transformations present to the proxy", secret=True),
    Setting("chains.llm.model", str, "auto", "model (or alias) LLM transformations ask the proxy for"),
    Setting("chains.llm.timeout_ms", int, 60000, "deadline of one LLM transformation"),
    Setting("chains.llm.max_tokens", int, 1024, "longest answer of one LLM transformation"),
    Setting("chains.llm.max_calls_per_step", int, 100, "most LLM transformations one finished run may need"),
    # Triggers of the job engine (apps.chains actors, schedules, webhooks) and the leader leases they use.
    Setting(
        "leases.backend", str, "auto",
        "leader leases (beat, singleton actors): auto (redis when redis.url is set, else postgres, else file), "
        "redis, postgres or file", choices=("auto", "redis", "postgres", "file"),
    ),
    Setting("schedules.lease_ttl_ms", int, 30000, "the beat lease: a standby beat takes over this long after the "
            "active one dies"),
    Setting("schedules.misfire_grace_seconds", int, 60, "a tick sent or delivered later than this was missed and "
            "follows its schedule's catch-up policy"),
    Setting("schedules.max_catch_up", int, 100, "most missed ticks one schedule with catch-up `all` replays at once"),
    Setting("schedules.redispatch_after_seconds", int, 300, "beat sends again a fire no worker has taken after this"),
    Setting("actors.principal", str, None, "principal that actors without their own run as (none: they do not run)"),
    Setting("actors.reload_interval_seconds", int, 10, "how often `legion actors` picks up added or changed actors"),
    Setting("actors.retry_threshold", int, 2, "subscription actors: retries of a message before it is dead-lettered"),
    Setting("webhooks.replay_window_seconds", int, 300, "a signed webhook request older or newer than this is refused"),
    # The proxy's per-provider concurrency limits (each instance's `concurrency`), see docs/proxy.md.
    Setting(
        "proxy.limits.store", str, "auto", "concurrency leases: auto (redis in full mode, shared), memory, redis",
        choices=("auto", "memory", "redis"),
    ),
    Setting("proxy.limits.lease_seconds", int, 15, "a concurrency lease of a proxy that died frees after this long"),
)

GENERATED_FILES: dict[str, Callable[[], str]] = {
    "aes_key_lite-1": _aes_key,
}

BY_KEY = {setting.key: setting for setting in SETTINGS}
