"""One route, the counterpart of tokend's ``GET /v2/user``."""

from django.urls import path

from knoxbench.views import UserView

urlpatterns = [path("v2/user", UserView.as_view())]
