"""oarlock.asgi with /static/ served, for page tests until the portal serves static files itself."""

from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from oarlock.asgi import application as oarlock_application


async def application(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "http" and scope["path"].startswith("/" + settings.STATIC_URL.lstrip("/")):
        await _static(scope, receive, send)
        return
    await oarlock_application(scope, receive, send)


_static = ASGIStaticFilesHandler(oarlock_application)
