"""OSDI (Open Supporter Data Interface, HAL+JSON) under /api/osdi/v1/: petitions and
events with their counts, and the record signature / record attendance helpers for
partners with an API key (docs/api-osdi-webhooks.md).

- `hal`: the HAL+JSON answers, links, paging, errors, and the read headers;
- `resources`: petitions and events as OSDI resources;
- `helpers`: an OSDI person turned into the fields of the write API;
- `views`: the endpoints (hamseda/api/osdi_urls.py).
"""
