"""The .ics files of events (namespace `calendar`; views/calendar.py)."""

from django.urls import path

from hamseda.actions.views import calendar

urlpatterns = [
    path("e/<slug:slug>/event.ics", calendar.event_ics, name="event_ics"),
    path("c/<slug:campaign>/events.ics", calendar.campaign_ics, name="campaign_ics"),
]
