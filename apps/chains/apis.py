"""REST API of the job engine: chains, relationships, task runs (with their trees), invoking a function and the
spool."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chains.models import Chain, Relationship, TaskRun
from apps.chains.selectors import chain_get, chain_graph, chain_list, relationship_list, run_get, run_list, run_tree
from apps.chains.serializers import (
    ChainSerializer,
    CloneSerializer,
    InvokeSerializer,
    RelationshipSerializer,
    TaskRunSerializer,
    TriggerSerializer,
    idempotency_key_of,
)
from apps.chains.services.chains import (
    chain_clone,
    chain_create,
    chain_set_enabled,
    relationship_create,
    relationship_delete,
    relationship_update,
)
from apps.chains.services.runs import chain_trigger, run_cancel, run_trigger
from apps.core.spool.publisher import publisher
from apps.rbac.authentication import request_principal
from apps.runners.apis import FunctionApi


class ChainListApi(generics.ListCreateAPIView[Chain]):
    serializer_class = ChainSerializer
    filterset_fields = ["enabled"]

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        name = request.data.get("name") if request.method == "POST" and isinstance(request.data, Mapping) else None
        return f"chains/{name}" if name else "chains"

    def get_queryset(self) -> Any:
        return chain_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ChainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        chain = chain_create(name=body.validated_data["name"], description=body.validated_data.get("description", ""),
                             enabled=body.validated_data.get("enabled", True))
        return Response(ChainSerializer(chain).data, status=status.HTTP_201_CREATED)


class ChainApi(APIView):
    """A view of the chain the URL names: read once per request, for its RBAC resource and the handler."""

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"chains/{self.chain.name}"

    @cached_property
    def chain(self) -> Chain:
        return chain_get(chain_id=self.kwargs["pk"])


class ChainDetailApi(ChainApi):
    """GET a chain with its graph; PATCH `enabled` to enable or disable it."""

    def get(self, request: Request, pk: int) -> Response:
        return Response({**ChainSerializer(self.chain).data, "graph": chain_graph(chain=self.chain)})

    def patch(self, request: Request, pk: int) -> Response:
        chain = self.chain
        body = ChainSerializer(chain, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        if "enabled" in body.validated_data:
            chain = chain_set_enabled(chain=chain, enabled=body.validated_data["enabled"])
        return Response(ChainSerializer(chain).data)


class ChainCloneApi(APIView):
    rbac_action = "create"

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        name = request.data.get("name") if isinstance(request.data, Mapping) else None
        return f"chains/{name}" if name else "chains"

    def post(self, request: Request, pk: int) -> Response:
        body = CloneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        clone = chain_clone(by=request_principal(request), chain=chain_get(chain_id=pk),
                            name=body.validated_data["name"])
        return Response(ChainSerializer(clone).data, status=status.HTTP_201_CREATED)


class ChainTriggerApi(ChainApi):
    """Start the chain at its entry function; 202 with the root run."""

    rbac_action = "execute"

    def post(self, request: Request, pk: int) -> Response:
        body = TriggerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = chain_trigger(
            chain=self.chain, payload=body.validated_data["payload"],
            principal=request_principal(request), triggered_by="api",
            idempotency_key=idempotency_key_of(request, body.validated_data),
        )
        return Response(TaskRunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class FunctionInvokeApi(FunctionApi):
    """Start a run of the function; 202 with the queued run (it executes on a worker)."""

    rbac_action = "execute"

    def post(self, request: Request, qualified_name: str) -> Response:
        body = InvokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = run_trigger(
            function=self.function, payload=body.validated_data["payload"],
            principal=request_principal(request), triggered_by="api",
            idempotency_key=idempotency_key_of(request, body.validated_data),
        )
        return Response(TaskRunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class RelationshipListApi(generics.ListCreateAPIView[Relationship]):
    serializer_class = RelationshipSerializer
    filterset_fields = ["chain", "active"]

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        chain = request.data.get("chain") if request.method == "POST" and isinstance(request.data, Mapping) else None
        return f"chains/{chain}" if chain else "chains"

    def get_queryset(self) -> Any:
        return relationship_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = RelationshipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        relationship = relationship_create(by=request_principal(request), **body.validated_data)
        return Response(RelationshipSerializer(relationship).data, status=status.HTTP_201_CREATED)


class RelationshipDetailApi(APIView):
    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"chains/{self.relationship.chain.name}"

    @cached_property
    def relationship(self) -> Relationship:
        return generics.get_object_or_404(relationship_list(), pk=self.kwargs["pk"])

    def get(self, request: Request, pk: int) -> Response:
        return Response(RelationshipSerializer(self.relationship).data)

    def patch(self, request: Request, pk: int) -> Response:
        body = RelationshipSerializer(self.relationship, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        # A relationship stays in its chain: a `chain` in the body is ignored.
        changes = {key: value for key, value in body.validated_data.items() if key != "chain"}
        saved = relationship_update(by=request_principal(request), relationship=self.relationship, **changes)
        return Response(RelationshipSerializer(saved).data)

    def delete(self, request: Request, pk: int) -> Response:
        relationship_delete(relationship=self.relationship)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunListApi(generics.ListAPIView[TaskRun]):
    rbac_resource = "tasks"
    serializer_class = TaskRunSerializer
    filterset_fields = ["status", "chain", "root", "parent", "triggered_by"]
    ordering_fields = ["created_at", "finished_at"]

    def get_queryset(self) -> Any:
        return run_list()


class RunDetailApi(APIView):
    """A run with its tree of children (the whole tree below it, nested)."""

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"tasks/{self.kwargs['pk']}"

    def get(self, request: Request, pk: str) -> Response:
        run = run_get(run_id=pk)
        return Response({**TaskRunSerializer(run, context={"request": request}).data, "tree": run_tree(run=run)})


class RunCancelApi(APIView):
    rbac_action = "update"

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"tasks/{self.kwargs['pk']}"

    def post(self, request: Request, pk: str) -> Response:
        cancelled = run_cancel(run=run_get(run_id=pk))
        return Response({"cancelled": cancelled})


class SpoolApi(APIView):
    """How many messages wait in this process's spool directory for the broker."""

    rbac_resource = "system/spool"

    def get(self, request: Request) -> Response:
        depth = publisher().spool.depth()
        return Response({"files": depth.files, "messages": depth.messages, "bytes": depth.bytes,
                         "oldest_age_seconds": depth.oldest_age_seconds})
