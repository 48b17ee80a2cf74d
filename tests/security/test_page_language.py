"""Every page, as every role, in both languages: no stored code shown raw, no message id left untranslated, no
interface text in the other language's script.

The crawl walks app.url_map over the demo-like world (every route, the first object of each kind), once with
the interface in Chinese and once in English, and reads the text a person sees (text nodes and option labels,
not scripts, styles or attribute values):

- a text that is exactly a stored enum value (``committed``, ``scoring``, ``id_card`` …) is a raw code;
- on a Chinese page, a text that is exactly an English message id with a Chinese translation was not
  translated, and any other interface text of two or more English words is the wrong script;
- on an English page, a text that is exactly a Chinese translation of a message is Chinese left in the
  English interface.

Data keep their language on both pages (names, case causes, file texts are Chinese), so only whole texts that
are interface strings or codes count; the world's XSS payloads, code-like tokens and file names are data.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from conftest import activate, restore, role_users, sign_in
from crawl import fetch, methods, object_values, routes, urls_for

from evalplat.extensions import db

ROOT = Path(__file__).resolve().parents[2]
SKIP_ENDPOINTS = {"accounts.logout", "api.openapi"}  # signs out; a machine document
# Lines of English a Chinese page may show: formats, the language switch, product and standard names.
ALLOWED_ENGLISH = {"English", "SHA-256", "CSV", "XLSX", "PDF", "HTML", "JSON", "OpenAPI", "API", "ICC", "TOTP"}
WORDS = re.compile(r"^[A-Za-z][A-Za-z'’\-]*(?:[,.:;()]* [ ,.:;()]*[A-Za-z][A-Za-z'’\-]*)+[ .:;!?)]*$")


class _Text(HTMLParser):
    """The visible texts of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "code", "pre", "textarea"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.append(text)


def texts_of(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


def stored_codes() -> set[str]:
    """Every value of every enum stored by a model (the codes pages must translate)."""
    codes: set[str] = set()
    import evalplat

    for package in pkgutil.iter_modules(evalplat.__path__):
        if not package.ispkg:
            continue
        try:
            module = importlib.import_module(f"evalplat.{package.name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"evalplat.{package.name}.models":
                raise
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == module.__name__:
                codes.update(str(m.value) for m in value if isinstance(m.value, str))
    return codes


def catalogues() -> tuple[set[str], set[str]]:
    """(English message ids that have a different Chinese translation, those Chinese translations)."""
    ids: set[str] = set()
    chinese: set[str] = set()
    for po in ROOT.glob("**/translations/zh_Hans/LC_MESSAGES/messages.po"):
        if ".venv" in po.parts:
            continue
        with po.open("rb") as fh:
            for message in read_po(fh):
                if not message.id or not message.string or isinstance(message.id, tuple):
                    continue
                if "%(" in message.id or message.id == message.string:
                    continue
                ids.add(message.id)
                chinese.add(str(message.string))
    return ids, chinese


def _data_like(text: str) -> bool:
    """Data a page may show in any language: payloads, codes, numbers, addresses, file names."""
    return ("xss" in text or "alert(" in text or "@" in text or "/" in text or "_" in text
            or bool(re.search(r"\d", text)) or bool(re.search(r"\.[a-z]{2,4}$", text)))


@pytest.fixture(scope="module")
def pages(world_setup: Any) -> list[tuple[str, str, str, str]]:
    """(language, role, url, html) of every GET page that answered 200 with HTML."""
    app, world, template, live = world_setup
    restore(app, template, live)
    activate(app)
    out = []
    with app.app_context():
        values = object_values(db.session, world.staff[3])
        users = role_users(db.session, world)
        for language in ("zh_Hans", "en"):
            for role, user_id in users.items():
                client = sign_in(app, user_id)
                client.post(f"/language/{language}")
                for rule, _policy in routes(app):
                    if "GET" not in methods(rule) or rule.endpoint in SKIP_ENDPOINTS:
                        continue
                    for url in urls_for(rule, values, first=True):
                        f = fetch(client, role, "GET", url, rule.endpoint)
                        if f.status == 200 and "text/html" in f.headers.get("Content-Type", ""):
                            out.append((language, role, url, f.text))
            db.session.remove()
    return out


def test_the_walk_reaches_pages_in_both_languages(pages: list[tuple[str, str, str, str]]) -> None:
    for language in ("zh_Hans", "en"):
        assert len({url for lang, _r, url, _h in pages if lang == language}) >= 40
    zh = next(h for lang, role, url, h in pages if lang == "zh_Hans" and role == "organiser" and url == "/home")
    en = next(h for lang, role, url, h in pages if lang == "en" and role == "organiser" and url == "/home")
    assert "待办事项" in zh
    assert "To do" in en


def test_no_page_shows_a_stored_code(pages: list[tuple[str, str, str, str]]) -> None:
    codes = stored_codes()
    assert {"committed", "scoring", "offered", "id_card"} - codes <= {"id_card"}  # the scan sees the enums
    problems = sorted({f"{lang} {role} {url}: {text!r}" for lang, role, url, html in pages
                       for text in texts_of(html) if text in codes})
    assert problems == [], f"{len(problems)} raw codes:\n" + "\n".join(problems[:60])


def test_chinese_pages_have_no_english_interface_text(pages: list[tuple[str, str, str, str]]) -> None:
    ids, _chinese = catalogues()
    problems = set()
    for lang, role, url, html in pages:
        if lang != "zh_Hans":
            continue
        for text in texts_of(html):
            if text in ALLOWED_ENGLISH or _data_like(text):
                continue
            if text in ids:
                problems.add(f"{role} {url}: untranslated {text!r}")
            elif WORDS.match(text):
                problems.add(f"{role} {url}: English {text!r}")
    assert sorted(problems) == [], f"{len(problems)} problems:\n" + "\n".join(sorted(problems)[:60])


def test_english_pages_have_no_chinese_interface_text(pages: list[tuple[str, str, str, str]],
                                                     world_setup: Any) -> None:
    import sqlalchemy as sa

    from evalplat.accounts.models import User

    _ids, chinese = catalogues()
    app = world_setup[0]
    with app.app_context():  # people's names are data, whatever words they happen to be
        names = set(db.session.scalars(sa.select(User.display_name)))
        db.session.remove()
    problems = sorted({f"{role} {url}: {text!r}" for lang, role, url, html in pages if lang == "en"
                       for text in texts_of(html) if text in chinese and len(text) >= 2 and text not in names})
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:60])
