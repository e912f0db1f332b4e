"""Days of action, events and RSVPs (namespace `actions`, mounted at "" inside
i18n_patterns): public pages, and organiser pages under organize/."""

from django.urls import path

from hamseda.actions.views import organize, public

urlpatterns = [
    path("c/<slug:campaign>/days/<slug:slug>/", public.day, name="day"),
    path("e/<slug:slug>/", public.event, name="event"),
    path("e/<slug:slug>/rsvp", public.rsvp, name="rsvp"),
    path("e/<slug:slug>/confirm/<str:token>", public.confirm, name="confirm"),
    path("e/<slug:slug>/withdraw/<str:token>", public.withdraw, name="withdraw"),
    path("organize/events/", organize.my_events, name="organize_list"),
    path("organize/campaigns/<slug:campaign>/days/", organize.days, name="organize_days"),
    path("organize/days/<slug:slug>/", organize.day_detail, name="organize_day"),
    path("organize/days/<slug:slug>/edit", organize.day_edit, name="organize_day_edit"),
    path("organize/days/<slug:slug>/publish", organize.day_publish, name="organize_day_publish"),
    path("organize/days/<slug:slug>/cancel", organize.day_cancel, name="organize_day_cancel"),
    path("organize/days/<slug:slug>/events/new", organize.event_new, name="organize_event_new"),
    path("organize/events/<slug:slug>/", organize.event_detail, name="organize_event"),
    path("organize/events/<slug:slug>/edit", organize.event_edit, name="organize_event_edit"),
    path(
        "organize/events/<slug:slug>/publish",
        organize.event_publish,
        name="organize_event_publish",
    ),
    path("organize/events/<slug:slug>/cancel", organize.event_cancel, name="organize_event_cancel"),
    path("organize/events/<slug:slug>/attendees", organize.attendees, name="organize_attendees"),
]
