from django.urls import re_path

from monitor.monitor_consumer import MonitorConsumer

websocket_urlpatterns = [re_path(r"^ws/monitor/$", MonitorConsumer.as_asgi())]
