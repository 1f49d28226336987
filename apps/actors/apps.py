"""Django app configuration for actors (timers, polls, queues, loops, absorbers) that start runs of the job engine."""

from django.apps import AppConfig


class ActorsConfig(AppConfig):
    name = "apps.actors"
    label = "actors"
