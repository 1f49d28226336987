"""REST API of actors (`actors/<name>` in RBAC): configure them, invoke one now, give an absorber an input."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.actors.models import Actor
from apps.actors.selectors import actor_get, actor_list
from apps.actors.serializers import AbsorbSerializer, ActorSerializer, InvokeSerializer
from apps.actors.services import actor_absorb, actor_create, actor_delete, actor_invoke, actor_update
from apps.chains.models import TaskRun
from apps.chains.serializers import TaskRunSerializer, idempotency_key_of
from apps.rbac.authentication import request_principal


class ActorListApi(generics.ListCreateAPIView[Actor]):
    serializer_class = ActorSerializer
    filterset_fields = ["kind", "enabled", "available"]

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        name = request.data.get("name") if request.method == "POST" and isinstance(request.data, Mapping) else None
        return f"actors/{name}" if name else "actors"

    def get_queryset(self) -> Any:
        return actor_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ActorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = actor_create(by=request_principal(request), **body.validated_data)
        return Response(ActorSerializer(actor_get(actor_id=actor.pk)).data, status=status.HTTP_201_CREATED)


class ActorApi(APIView):
    """A view of the actor the URL names: read once per request, for its RBAC resource and the handler."""

    def get_rbac_resource(self, request: Request, obj: Any = None) -> str:
        return f"actors/{self.actor.name}"

    @cached_property
    def actor(self) -> Actor:
        return actor_get(actor_id=self.kwargs["pk"])


class ActorDetailApi(ActorApi):
    """GET an actor with its state; PATCH any setting (the runtime restarts it); DELETE one not declared."""

    @extend_schema(responses=ActorSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ActorSerializer(self.actor).data)

    @extend_schema(request=ActorSerializer, responses=ActorSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        body = ActorSerializer(self.actor, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        actor_update(by=request_principal(request), actor=self.actor, **body.validated_data)
        # Read again for the answer: saving may have created the actor's state row.
        return Response(ActorSerializer(actor_get(actor_id=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        actor_delete(actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActorActionApi(ActorApi):
    """Acting through an actor is `execute` on `actors/<name>`; what it starts is authorized as the caller."""

    rbac_action = "execute"

    def accepted(self, run: TaskRun) -> Response:
        return Response(TaskRunSerializer(run, context={"request": self.request}).data, status=status.HTTP_202_ACCEPTED)


class ActorInvokeApi(ActorActionApi):
    """Fire the actor now with `payload` over its own; 202 with the run."""

    @extend_schema(request=InvokeSerializer, responses={202: TaskRunSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = InvokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self.accepted(actor_invoke(
            actor=self.actor, payload=body.validated_data["payload"],
            principal=request_principal(request), idempotency_key=idempotency_key_of(request, body.validated_data)))


class ActorAbsorbApi(ActorActionApi):
    """Route `input` to the absorber's first matching handler; 202 with the run, 422 `no_handler`."""

    @extend_schema(request=AbsorbSerializer, responses={202: TaskRunSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = AbsorbSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self.accepted(actor_absorb(
            actor=self.actor, value=body.validated_data["input"],
            principal=request_principal(request), idempotency_key=idempotency_key_of(request, body.validated_data)))
