"""The tests' web server in a thread stops without pulling its sockets out from under its loop
(closing them from the test's thread made the loop fail with EBADF in 75 of 100 stops right
after a start, and each stop after a request waited out the loop's one-second timeout)."""

from __future__ import annotations

import threading

import pytest
import requests
from flask import Flask
from support.web_server import served_in_thread


def test_a_server_in_a_thread_stops_cleanly_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    app = Flask("probe")
    app.add_url_rule("/", view_func=lambda: "ok")

    for n in range(20):  # stopped at once, or after a request
        with served_in_thread(app, threads=2) as base:
            if n % 2:
                assert requests.get(base + "/", timeout=10).text == "ok"

    assert failures == []
