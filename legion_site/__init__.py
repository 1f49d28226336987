"""The Legion Django project; importing it makes the Celery app available to shared tasks."""

from legion_site.celery import app as celery_app

__all__ = ["celery_app"]
