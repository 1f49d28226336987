"""Health probes and the JSON error pages for paths under /api/."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from apps.core.api.errors import error_response
from apps.core.health import checks_run


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers; touches no dependency."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: every dependency of this mode, 503 when any is down; warnings (no provider, no local tier) are
    reported in their check and never make it 503 (see proxy/readiness.py)."""
    results = checks_run()
    ready = all(result.ok for result in results)
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {r.name: {"ok": r.ok, "warning": r.warning, "detail": r.detail, "seconds": round(r.seconds, 3)}
                   for r in results},
    }
    return JsonResponse(body, status=200 if ready else 503)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response("not_found", f"No endpoint at {request.path}", status=404)
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response("internal_error", "Internal error; it has been logged.", status=500)
    return html_server_error(request)
