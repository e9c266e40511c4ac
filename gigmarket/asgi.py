"""ASGI entry point for uvicorn: the live event streams at ``/events/`` (``live.streams``, plain ASGI) and
every other path through Django's ASGI handler — pages, API and static files (WhiteNoise), so one uvicorn
process can serve the whole site (``scripts/run``) or only the streams beside gunicorn (docker-compose's
``events`` service, routed by path). See docs/live.md."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigmarket.settings.local")
django_application = get_asgi_application()

from live import streams  # noqa: E402  (after Django is set up: it reads models and settings)
from live.hub import get_hub  # noqa: E402


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] == "http" and scope["path"].startswith("/events/"):
        return await streams.app(scope, receive, send)
    return await django_application(scope, receive, send)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await get_hub().close()
            await send({"type": "lifespan.shutdown.complete"})
            return
