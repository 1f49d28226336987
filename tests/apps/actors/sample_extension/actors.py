"""The sample extension's actors."""

from apps.actors.declarations import ActorDeclaration

ACTORS = (
    ActorDeclaration(name="heartbeat", kind="every", function="core.basic.log", payload={"message": "alive"},
                     options={"interval_seconds": 60}, description="logs that the node is alive"),
    ActorDeclaration(name="broken", kind="every", function="core.basic.nope"),
)
