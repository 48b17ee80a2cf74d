"""Messages escape user data: flashed and rendered messages built from cells, file and firm names."""

from __future__ import annotations

import ast
import io
from pathlib import Path
from typing import Any

from markupsafe import escape

from evalplat.i18n import lazy_gettext

PAYLOAD = "<b id=X>粗</b><a href=javascript:alert(1)>x</a>"
ROOT = Path(__file__).resolve().parents[2]


def _csv(rows: list[list[str]]) -> bytes:
    header = ["username", "姓名", "类型", "所在市", "律所", "执业证号", "执业年限", "案件类型", "承担量"]
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode("utf-8")


def test_reviewer_import_city_cell_markup_is_shown_escaped_in_the_flash(client: Any, make_user: Any,
                                                                         login: Any) -> None:
    login(client, make_user("organiser"))
    data = _csv([["li.ming", "李明", "律师", PAYLOAD, "某所", "14407201110001", "8", "刑事", "12"]])
    response = client.post("/reviewers/import", data={"file": (io.BytesIO(data), "pool.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "<b id=X>" not in page
    assert "<a href=javascript" not in page
    assert str(escape("<b id=X>")) in page


def test_new_firm_name_markup_is_escaped_in_the_flash_after_the_redirect(client: Any, make_user: Any, login: Any,
                                                                        make_region: Any) -> None:
    make_region("江门市")
    login(client, make_user("organiser"))
    data = _csv([["li.ming", "李明", "律师", "江门市", PAYLOAD, "14407201110001", "8", "刑事", "12"]])
    response = client.post("/reviewers/import", data={"file": (io.BytesIO(data), "pool.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;b id=X&gt;粗&lt;/b&gt;" in page
    assert "<b id=X>" not in page
    assert "<a href=javascript" not in page


def test_lazy_message_escapes_its_arguments_but_not_the_translation(app: Any) -> None:
    with app.test_request_context():
        message = lazy_gettext("Unknown city %(c)s.", c=PAYLOAD)
        assert str(message) == f"Unknown city {PAYLOAD}."
        assert message.__html__() == f"Unknown city {escape(PAYLOAD)}."


def test_no_module_uses_flask_babels_unescaped_lazy_gettext() -> None:
    offenders = []
    for path in (ROOT / "evalplat").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel" and any(
                    alias.name in {"lazy_gettext", "LazyString"} for alias in node.names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
