"""Security headers for every answer, and who may claim that a request came over HTTPS.

Django's SecurityMiddleware sends HSTS, Referrer-Policy, X-Content-Type-Options and
Cross-Origin-Opener-Policy from the settings ("Request limits and security" in
hamseda/settings.py); this middleware adds what Django has no setting for: a strict
Content-Security-Policy (nothing from another host, no inline scripts or styles, no
framing) and a Permissions-Policy. It runs first, so it also covers static files
(WhiteNoise), error pages and the API.

A view that needs a different policy (an embeddable widget, say) sets its own header;
the defaults here are only added when a header is missing.
"""

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        self.forget_untrusted_scheme(request)
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    @staticmethod
    def forget_untrusted_scheme(request: HttpRequest) -> None:
        """Believe X-Forwarded-Proto only from a trusted reverse proxy.

        With HAMSEDA_TRUSTED_PROXIES set, Django's SECURE_PROXY_SSL_HEADER takes the
        header as proof that the client used HTTPS, from whoever sends it. A client
        that reaches the application port directly could then pass a plain-HTTP
        request off as secure (no redirect to HTTPS, secure cookies set on it). So the
        header is dropped unless the socket peer is one of the trusted proxies, the
        same rule `network.client_address` applies to X-Forwarded-For.
        """
        header = settings.SECURE_PROXY_SSL_HEADER
        if header is None or header[0] not in request.META:
            return
        try:
            peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            peer = None
        trusted = peer is not None and any(
            peer in ipaddress.ip_network(proxy, strict=False) for proxy in settings.TRUSTED_PROXIES
        )
        if not trusted:
            del request.META[header[0]]
