from django.urls import path

from monitor.views import monitor_page

app_name = "monitor"
urlpatterns = [path("", monitor_page, name="page")]
