"""Headers on every answer, and session cookies that are Secure whenever the page is on TLS."""

from __future__ import annotations

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface

__all__ = ["CONTENT_SECURITY_POLICY", "TlsAwareSessions", "add_security_headers"]

# Scripts, styles and images only from the page itself (no inline script or style at all);
# no plugin objects; no framing by any site (clickjacking); forms post only to the page.
# form-action is left out: Chromium applies it to the redirect after a form, and the connect
# form of an OAuth destination ends in a redirect to the vendor's consent page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # An OAuth callback URL carries a grant code: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # Pages show books and settings: no shared or browser cache keeps them.
    response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


class TlsAwareSessions(SecureCookieSessionInterface):
    """Signed session cookies (HttpOnly, SameSite=Lax), Secure when the request came over TLS
    (directly, or through a trusted reverse proxy that says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        current: Request = request
        return bool(app.config["SESSION_COOKIE_SECURE"] or current.is_secure)
