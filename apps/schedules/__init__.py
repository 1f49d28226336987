"""Cron and interval schedules through django-celery-beat: one active beat (a lease), catch-up, spooled fires."""
