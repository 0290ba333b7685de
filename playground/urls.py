from django.urls import path

from playground.views import playground_page, playground_token

app_name = "playground"
urlpatterns = [
    path("", playground_page, name="page"),
    path("token/", playground_token, name="token"),
]
