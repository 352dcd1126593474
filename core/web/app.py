"""``create_app(host)``: the web page on one host, its store and plugins, as the CLI has them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from core.errors import LedgersyncError
from core.host import Host
from core.pages import PluginPages
from core.web.auth import auth, require_operator
from core.web.operator import Operator, load_operator, session_key
from core.web.security import TlsAwareSessions, add_security_headers
from core.web.syncs import SyncRunner
from core.web.throttle import LoginThrottle
from core.web.views import pages
from core.web.views.common import local
from core.web.webhooks import webhooks

__all__ = ["create_app"]

SESSION_LIFETIME = timedelta(hours=12)


def create_app(
    host: Host,
    *,
    operator: Operator | None = None,
    session_secret: bytes | None = None,
    throttle: LoginThrottle | None = None,
    trusted_proxies: int = 0,
) -> Flask:
    """The web app for ``host``. ``operator`` defaults to the one set with ``ledgersync serve
    --set-password`` (or ``LEDGERSYNC_WEB_PASSWORD``); ``trusted_proxies`` is how many reverse
    proxies in front may say the client's address and scheme (X-Forwarded-For, -Proto)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=session_secret or session_key(host.key_file),
        SESSION_COOKIE_NAME="ledgersync_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # Strict would drop the session on the OAuth return
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.session_interface = TlsAwareSessions()
    app.extensions["ledgersync.host"] = host
    app.extensions["ledgersync.operator"] = operator or load_operator(host.key_file)
    app.extensions["ledgersync.throttle"] = throttle or LoginThrottle()
    app.extensions["ledgersync.syncs"] = SyncRunner(host)
    # The session check runs before the CSRF check: a form without a session goes to the login.
    app.before_request(require_operator)
    CSRFProtect(app).exempt(webhooks)  # a vendor's signed POST, not a browser's form
    app.after_request(add_security_headers)
    app.register_blueprint(auth)
    app.register_blueprint(pages)
    app.register_blueprint(webhooks)
    _add_plugin_pages(app, host)
    app.add_template_filter(local, "local")
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(LedgersyncError, _refused)
    if trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=trusted_proxies,
            x_proto=trusted_proxies,
            x_host=trusted_proxies,
            x_port=trusted_proxies,
            x_prefix=trusted_proxies,
        )
    return app


def _add_plugin_pages(app: Flask, host: Host) -> None:
    found: dict[str, PluginPages] = {}
    for name, cls in sorted(host.plugins.pages().items()):
        piece = cls(host)
        found[name] = piece
        app.register_blueprint(piece.blueprint(), url_prefix=f"/plugins/{name}")
    app.extensions["ledgersync.pages"] = found


def _csrf_refused(error: CSRFError) -> Any:
    return render_template("refused.html", reason=error.description), 400


def _refused(error: LedgersyncError) -> Any:
    """What a command would print as its one error line, as a page."""
    return render_template("refused.html", reason=str(error)), 409


def _not_found(_error: Exception) -> Any:
    return render_template("refused.html", reason="There is no such page or connection."), 404
