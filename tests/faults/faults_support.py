"""Helpers of the fault tests: a real HTTP server, browser-like sessions, two requests fired at once.

``Web`` is a cookie-keeping client on the standard library (no redirects followed, so a test sees the
302 and then reads the page it leads to, flashed messages included). ``fire_together`` runs callables in
threads that start at a barrier. ``Rendezvous`` wraps an operation inside the server so that every racing
request has read its state before any of them writes: the race is then certain, not left to timing.
"""

from __future__ import annotations

import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from typing import Any

JOIN_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with Werkzeug's threaded server on 127.0.0.1 and a free port; yield the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    body: str

    def flashes(self, category: str) -> list[str]:
        """The flashed messages of one category (``success``, ``error`` …) shown on the page."""
        pattern = rf'<p class="flash flash-{re.escape(category)}">(.*?)</p>'
        return [unescape(m) for m in re.findall(pattern, self.body, flags=re.S)]


class _FormFields(HTMLParser):
    """The values a browser would submit for the first form posting to ``…action`` (None: to the page itself)."""

    def __init__(self, action: str | None) -> None:
        super().__init__()
        self.action, self.inside, self.done = action, False, False
        self.fields: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done:
            target = a.get("action", "")
            self.inside = not target if self.action is None else target.endswith(self.action)
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file", "image"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in a:
            self.fields.setdefault(self.select, []).append(a.get("value", ""))
        elif tag == "textarea":
            self.textarea = name
            self.fields.setdefault(name, []).append("")

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea:
            self.fields[self.textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(html: str, action: str | None = None) -> dict[str, list[str]]:
    """What a form would send as it stands on the page (inputs, selects, text areas).

    The form is the first one posting to ``…action``, or with ``action=None`` the first posting to the page
    itself (no action attribute).
    """
    parser = _FormFields(action)
    parser.feed(html)
    assert parser.done, f"no form posting to {action or 'the page itself'} on the page"
    return parser.fields


class Web:
    """One browser: its own cookies (session), English pages, every request a real HTTP round trip."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
        self.page: str | None = None  # the last page shown, sent as Referer with a POST (as a browser does)

    def request(self, path: str, data: Mapping[str, Any] | None = None) -> Reply:
        url = urllib.parse.urljoin(self.base, path)
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        headers = {"Accept-Language": "en", "Accept": "text/html"}
        if body is not None and self.page:
            headers["Referer"] = self.page
        req = urllib.request.Request(url, data=body, headers=headers)
        try:
            with self.opener.open(req, timeout=JOIN_SECONDS) as response:
                reply = Reply(response.status, response.headers.get("Location", ""),
                              response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            with error:
                reply = Reply(error.code, error.headers.get("Location", ""), error.read().decode("utf-8", "replace"))
        if body is None and reply.status == 200:
            self.page = url
        return reply

    def get(self, path: str) -> Reply:
        return self.request(path)

    def post(self, path: str, data: Mapping[str, Any]) -> Reply:
        return self.request(path, data)

    def follow(self, reply: Reply) -> Reply:
        """The page a redirect leads to (where the flashed message is shown)."""
        assert reply.status in (301, 302, 303), f"expected a redirect, got {reply.status}: {reply.body[:300]}"
        return self.get(reply.location)

    def login(self, username: str, password: str) -> Web:
        reply = self.post("/login", {"username": username, "password": password})
        assert reply.status == 302, f"sign-in of {username} failed ({reply.status})"
        return self


def fire_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the callables in threads released together by a barrier; their results, in order.

    An exception in a thread is re-raised here; a thread still running after the time limit fails the test.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(JOIN_SECONDS)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(t.is_alive() for t in threads), "a racing request did not finish in time"
    if errors:
        raise errors[0]
    return results


class Rendezvous:
    """Make ``parties`` server requests meet just before they call ``module.name`` (then let them all go).

    Install with ``monkeypatch.setattr(module, name, Rendezvous(...).wrap(original))``. ``met`` tells whether
    every party arrived within the time limit, i.e. whether the requests really overlapped.
    """

    def __init__(self, parties: int = 2, timeout: float = 10.0) -> None:
        self.barrier = threading.Barrier(parties)
        self.timeout = timeout
        self.met = True

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                self.barrier.wait(self.timeout)
            except threading.BrokenBarrierError:
                self.met = False
            return original(*args, **kwargs)

        return wrapper
