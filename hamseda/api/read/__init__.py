"""The public read API under /api/v1/ (docs/api.md): one module per resource, each with
its router; hamseda.api.views mounts them on the API."""
