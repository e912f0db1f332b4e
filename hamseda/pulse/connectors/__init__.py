"""Connectors: how Hamseda asks X, Bluesky and Mastodon for a campaign's posts.

`http` holds the one HTTP policy they share (timeouts, retries, rate limits, errors);
`x`, `bluesky` and `mastodon` know each platform's search endpoint and how to resume
where the last fetch stopped; `jetstream` follows Bluesky live. They hand the platform's
JSON to the parsers in pulse.formats and never store anything themselves: pulse.fetch
does (docs/pulse-fetching.md).
"""
