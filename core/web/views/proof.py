"""The proof pages of a connection: reconcile (the three views of the clearing account) and
verify (the delivered documents read back). Both read the gateway and the books when opened
and write nothing to them; verify's repair stays on the command line (`verify --repair`)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from core.errors import LedgersyncError
from core.sync.reconcile import reconcile
from core.sync.verify import verify
from core.web.views.common import app_host, connection_or_404, local, pages


@pages.route("/connections/<name>/reconcile")
def reconcile_page(name: str) -> Any:
    info = connection_or_404(name)
    try:
        result, problem = reconcile(app_host(), name), ""
    except LedgersyncError as error:
        result, problem = None, str(error)
    at = local(result.at, info.timezone) if result is not None else ""
    return render_template("reconcile.html", info=info, result=result, problem=problem, at=at)


@pages.route("/connections/<name>/verify")
def verify_page(name: str) -> Any:
    info = connection_or_404(name)
    try:
        result, problem = verify(app_host(), name), ""
    except LedgersyncError as error:
        result, problem = None, str(error)
    return render_template("verify.html", info=info, result=result, problem=problem)
