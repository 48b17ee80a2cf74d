"""PDFs that would run something (JavaScript, automatic or launch actions) are refused by name."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from evalplat.files import FileRejected, sniff


def _pdf(change: Callable[[PdfWriter], None] | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if change is not None:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _js_action(code: str = "app.alert('x');") -> DictionaryObject:
    return DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(code)})


def _open_action(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = _js_action()


def _page_aa(writer: PdfWriter) -> None:
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _js_action()})


def _names_tree(writer: PdfWriter) -> None:
    """A document-level script in the /Names /JavaScript tree, its action an indirect object."""
    action = writer._add_object(_js_action())
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("init"), action])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})


def _launch(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})


CASES = {
    "document JavaScript (/Names /JavaScript)": (_names_tree, "JavaScript"),
    "OpenAction with JavaScript": (_open_action, "JavaScript"),
    "page additional actions (/AA)": (_page_aa, "automatic actions (/AA)"),
    "OpenAction launching a program": (_launch, "launch action"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pdf_with_script_is_refused_naming_what_it_found(name: str) -> None:
    change, detected = CASES[name]
    with pytest.raises(FileRejected) as caught:
        sniff(_pdf(change), "证据.pdf")
    assert caught.value.code == "pdf_javascript"
    assert caught.value.message("en") == (
        f"PDF file '证据.pdf' contains a script or an automatic action ({detected}) and is refused. "
        "Remove it (for example by printing the document to a new PDF) and upload it again.")
    assert "证据.pdf" in caught.value.message("zh")


def test_pdf_with_an_obfuscated_javascript_name_is_refused() -> None:
    data = _pdf(_open_action).replace(b"/JavaScript", b"/J#61vaScript")
    assert b"/JavaScript" not in data
    with pytest.raises(FileRejected) as caught:
        sniff(data, "x.pdf")
    assert caught.value.code == "pdf_javascript"


def test_pdf_without_scripts_is_accepted() -> None:
    assert sniff(_pdf(), "judgment.pdf").kind == "pdf"
