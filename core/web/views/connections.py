"""The connections list and the start of a new connection."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from markupsafe import Markup

from core.reports.status import status_rows
from core.web.views.common import app_host, pages, plugin_pages


@pages.route("/")
def index() -> Any:
    return redirect(url_for("pages.connections"))


@pages.route("/connections")
def connections() -> Any:
    rows = status_rows(app_host())
    return render_template("connections.html", rows=rows)


@pages.route("/connections/new")
def new_connection() -> Any:
    forms = [
        (piece.title, Markup(piece.connect_form(None)))
        for piece in plugin_pages().values()
        if piece.side == "source"
    ]
    return render_template("new_connection.html", forms=forms)
