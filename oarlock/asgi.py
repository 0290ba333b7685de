"""ASGI entry point: ``daphne -b HOST -p PORT oarlock.asgi:application``.

/v1/ goes to the API consumer (no Django handler, no middleware: see design.md); everything
else — admin, portal, management API, /health — through Django's normal handler. Websockets:
the live monitor (``/ws/monitor/``).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oarlock.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import re_path

django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (imports Django's auth models: needs the app registry ready)
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402  (as above)

from compat_api.api_consumer import ApiConsumer  # noqa: E402  (needs the app registry ready)
from monitor.routing import websocket_urlpatterns  # noqa: E402  (needs the app registry ready)
from oarlock.connection_balance import balance_connections_across_workers  # noqa: E402  (as above)
from oarlock.garbage_collection import tune_garbage_collector  # noqa: E402  (after the app registry, as above)
from oarlock.twisted_content_type import memoize_content_type_parsing  # noqa: E402  (as above)
from usage.usage_writer import usage_writer  # noqa: E402  (needs the app registry ready)

# Start the usage writer with the server, not at the first request: it replays the usage
# journal a crashed process left behind (the atexit flush on shutdown is registered here too).
usage_writer.start()

application = ProtocolTypeRouter(
    {
        # URLRouter routes ASGI applications; django-stubs types re_path's target as a view.
        "http": URLRouter(
            [
                re_path(r"^v1/", ApiConsumer()),  # type: ignore[arg-type]  # an ASGI app, see above
                re_path(r"", django_application),  # type: ignore[arg-type]  # an ASGI app, see above
            ]
        ),
        # The live monitor: the session cookie authenticates (AuthMiddlewareStack), and only
        # pages of our own hosts may open the socket (cross-site websocket hijacking).
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Last, once everything long-lived is loaded: it is frozen out of the collector's scans.
tune_garbage_collector()
memoize_content_type_parsing()
balance_connections_across_workers()
