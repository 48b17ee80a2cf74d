"""Small helpers shared by tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TEST_PASSWORD = "correct-horse-battery"  # noqa: S105 - test data


def without_csrf_token(html: str) -> str:
    """The page with its CSRF token's value blanked: the token embeds a timestamp, so two renderings a
    second apart differ there and only there."""
    return CSRF_RE.sub('name="csrf_token" value=""', html)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def form_values(html: str) -> dict[str, Any]:
    """What a browser would submit from the page's (first) form as rendered: inputs with their values,
    checked boxes, the selected option of each select (a list of them for a multiple select), and textareas."""
    from html.parser import HTMLParser

    values: dict[str, Any] = {}

    class Reader(HTMLParser):
        select: str | None = None
        multiple: bool = False
        textarea: str | None = None
        first_option: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        values[name] = a.get("value", "y")
                else:
                    values[name] = a.get("value", "")
            elif tag == "select" and name:
                self.select, self.first_option, self.multiple = name, None, "multiple" in a
                if self.multiple:
                    values[name] = []
            elif tag == "option" and self.select and self.multiple:
                if "selected" in a:
                    values[self.select].append(a.get("value", ""))
            elif tag == "option" and self.select:
                if self.first_option is None:
                    self.first_option = a.get("value", "")
                    values.setdefault(self.select, self.first_option)
                if "selected" in a:
                    values[self.select] = a.get("value", "")
            elif tag == "textarea" and name:
                self.textarea = name
                values[name] = ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

        def handle_data(self, data: str) -> None:
            if self.textarea:
                values[self.textarea] += data

    Reader().feed(html)
    return values


_ARGUMENT = re.compile(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([^>]+)>")


def fill_rule(rule: object, number: int, text: str = "x") -> str:
    """The URL of a route with every argument filled in as the route's converter expects.

    Integer arguments get ``number``; opaque-id arguments (``<oid:…>``) get the token of ``number`` (needs
    an application context: the token is keyed by the app's secret); anything else gets ``text``.
    """
    from evalplat.params import opaque_id

    def value(match: re.Match[str]) -> str:
        converter = match.group(1)
        if converter == "int":
            return str(number)
        if converter == "oid":
            return opaque_id(number)
        return text

    return _ARGUMENT.sub(value, rule.rule)  # type: ignore[attr-defined]


def empty_postgres_tables(conn: sa.Connection, tables: list[str]) -> None:
    """Delete every row of ``tables`` (dependants first) and restart every sequence that was used.

    The end state is TRUNCATE … RESTART IDENTITY's, without its cost: TRUNCATE gives each table and index a
    new file, about a second for the whole schema on a loaded 2-core machine, after every test; here one
    query finds the tables that have rows (a test fills a few) and only those are deleted from.
    """
    if not tables:
        return
    present = set(conn.execute(sa.text(" UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT FROM \"{table}\")" for table in tables))).scalars())
    for table in tables:
        if table in present:
            conn.execute(sa.text(f'DELETE FROM "{table}"'))
    used = conn.execute(sa.text("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                                "FROM pg_sequences WHERE last_value IS NOT NULL")).scalars().all()
    for sequence in used:
        conn.execute(sa.text(f"ALTER SEQUENCE {sequence} RESTART"))
