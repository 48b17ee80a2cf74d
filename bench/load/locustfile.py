"""Locust scenario: reviewers sign in, open their cases and save drafts (driven by ``bench/load/run.py``).

Each simulated user takes one reviewer from the plan file (``EVALPLAT_LOAD_PLAN``, written by run.py): it
signs in, accepts its offered assignments, then loops: open one of its cases (GET, the full case page with
the redacted file), save a draft of the rubric form (POST, 302 back to the case page), think for a while.
The CSRF token is read from the page the form came from, as a browser would.
"""

from __future__ import annotations

import json
import os
import random
import re
from itertools import count
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_PLAN: dict[str, Any] = json.loads(open(os.environ["EVALPLAT_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
_NEXT = count()
_WAIT = (float(os.environ.get("EVALPLAT_LOAD_WAIT_MIN", "1")), float(os.environ.get("EVALPLAT_LOAD_WAIT_MAX", "3")))


_RECORDS: list[tuple[float, str, float, int]] = []


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, exception: Any, start_time: float | None = None,
            **_kw: Any) -> None:
    """Every request: start time, name, milliseconds, failed (for exact percentiles over any window)."""
    _RECORDS.append((start_time or 0.0, name, response_time, 1 if exception else 0))


@events.quitting.add_listener
def _dump(**_kw: Any) -> None:
    out = os.environ.get("EVALPLAT_LOAD_RECORDS")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(_RECORDS, handle)


def _token(html: str) -> str:
    match = CSRF_RE.search(html)
    if match is None:
        raise RuntimeError("page has no CSRF token")
    return match.group(1)


class Reviewer(FastHttpUser):
    """One reviewer of the plan; users beyond the plan's reviewers reuse them round-robin."""

    wait_time = between(*_WAIT)

    def on_start(self) -> None:
        me = _PLAN["reviewers"][next(_NEXT) % len(_PLAN["reviewers"])]
        self.assignments: list[dict[str, Any]] = me["assignments"]
        with self.client.get("/login", name="GET /login", catch_response=True) as page:
            token = _token(page.text or "")
        with self.client.post("/login", name="POST /login", allow_redirects=False, catch_response=True,
                              data={"csrf_token": token, "username": me["username"],
                                    "password": _PLAN["password"]}) as response:
            if response.status_code != 302:
                response.failure(f"sign-in of {me['username']} answered {response.status_code}")
                return
        for assignment in self.assignments:
            if assignment["state"] != "offered":
                continue
            with self.client.get("/reviews/", name="GET /reviews/ (inbox)", catch_response=True) as inbox:
                token = _token(inbox.text or "")
            with self.client.post(f"/reviews/{assignment['id']}/accept", name="POST /reviews/[id]/accept",
                                  data={"csrf_token": token}, allow_redirects=False,
                                  catch_response=True) as response:
                if response.status_code != 302:
                    response.failure(f"accept answered {response.status_code}")

    @task
    def open_and_save(self) -> None:
        assignment = random.choice(self.assignments)
        url = f"/reviews/{assignment['id']}"
        with self.client.get(url, name="GET /reviews/[id] (case page)", catch_response=True) as page:
            if page.status_code != 200:
                page.failure(f"case page answered {page.status_code}")
                return
            token = _token(page.text or "")
        form = dict(assignment["form"], csrf_token=token, save_draft="1")
        with self.client.post(url, name="POST /reviews/[id] (save draft)", data=form, allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"draft save answered {response.status_code}")
