"""Organisation pages under /organize/org/<slug>/: members and roles, sealing keys."""

from django.urls import path

from hamseda.orgs.views import keys, members

app_name = "orgs"

urlpatterns: list = [
    path("<slug:slug>/members", members.members, name="members"),
    path("<slug:slug>/members/<int:member_id>/role", members.change_role, name="change_role"),
    path("<slug:slug>/members/<int:member_id>/remove", members.remove, name="remove_member"),
    path("<slug:slug>/keys", keys.keys, name="keys"),
    path("<slug:slug>/keys/adopt", keys.adopt, name="adopt_key"),
    path("<slug:slug>/keys/generate", keys.generate, name="generate_key"),
]
