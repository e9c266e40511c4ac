"""The Celery app. Tasks are thin wrappers around services; they take primary keys and are idempotent."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigmarket.settings.local")

app = Celery("gigmarket")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
