"""Owners' pages for partner API keys and webhooks under /organize/org/<slug>/
(namespace `apikeys`)."""

from django.urls import path

from hamseda.api import organize_keys, organize_webhooks

urlpatterns = [
    path("<slug:slug>/api-keys", organize_keys.key_list, name="list"),
    path("<slug:slug>/api-keys/new", organize_keys.create, name="create"),
    path("<slug:slug>/api-keys/<int:key_id>/revoke", organize_keys.revoke, name="revoke"),
    path("<slug:slug>/webhooks", organize_webhooks.webhook_list, name="webhooks"),
    path("<slug:slug>/webhooks/new", organize_webhooks.create, name="create_webhook"),
    path(
        "<slug:slug>/webhooks/<int:webhook_id>/delete",
        organize_webhooks.delete,
        name="delete_webhook",
    ),
    path("<slug:slug>/webhooks/<int:webhook_id>/test", organize_webhooks.test, name="test_webhook"),
]
