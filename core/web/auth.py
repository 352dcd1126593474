"""Logging in and out, and the rule that every page but the login needs the operator's session."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from core.web.operator import Operator
from core.web.throttle import LoginThrottle

__all__ = ["PUBLIC_ENDPOINTS", "auth", "require_operator"]

auth = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.login", "auth.favicon", "static", "webhooks.receive"}


def _operator() -> Operator | None:
    operator: Operator | None = current_app.extensions["ledgersync.operator"]
    return operator


def _throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions["ledgersync.throttle"]
    return throttle


def _local_target(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another."""
    if not target:
        return url_for("pages.connections")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.connections")
    return target


def require_operator() -> Any:
    """Before every request: pages and forms without the operator's session go to the login."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    operator = _operator()
    if (
        operator is not None
        and session.get("operator") == operator.user
        and session.get("generation") == operator.generation
    ):
        return None
    session.pop("operator", None)  # a stale login (old password) is gone; the CSRF token stays
    session.pop("generation", None)
    target = request.full_path if request.method == "GET" else request.path
    return redirect(url_for("auth.login", next=target.rstrip("?")))


@auth.route("/login", methods=["GET", "POST"])
def login() -> Any:
    operator = _operator()
    if operator is None:
        return render_template("no_operator.html"), 503
    target = _local_target(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=target)
    address = request.remote_addr or "unknown"
    until = _throttle().blocked_until(address)
    if until is not None:
        when = until.astimezone(UTC).strftime("%H:%M UTC")
        flash(f"Too many failed logins. Try again after {when}.", "error")
        return render_template("login.html", next=target), 429
    user = request.form.get("user", "")
    if not operator.check(user, request.form.get("password", "")):
        _throttle().failed(address)
        flash("Wrong user name or password.", "error")
        return render_template("login.html", next=target, user=user), 401
    _throttle().succeeded(address)
    session.clear()  # a fresh session: nothing from before the login carries over
    session["operator"] = operator.user
    session["generation"] = operator.generation
    session.permanent = True
    return redirect(target)


@auth.route("/favicon.ico")
def favicon() -> Response:
    return Response(status=204)


@auth.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    flash("Logged out.", "info")
    return redirect(url_for("auth.login"))
