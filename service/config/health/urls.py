from django.urls import path

from config.health.views import LiveView, ReadyView, StartupView

urlpatterns = [
    path("live", LiveView.as_view(), name="health-live"),
    path("ready", ReadyView.as_view(), name="health-ready"),
    path("startup", StartupView.as_view(), name="health-startup"),
]
