"""Translation catalogues, one per package (so that domains never edit one shared file).

    python -m evalplat.i18n_tools update    # extract messages and merge them into each zh_Hans catalogue
    python -m evalplat.i18n_tools compile   # compile every .po into .mo (make run / make test do this)
    python -m evalplat.i18n_tools check     # list messages that have no Chinese translation; exit 1 if any

Message ids are English; the zh_Hans catalogue of each unit holds the Chinese text. A unit is a domain
sub-package of evalplat (evalplat/<domain>/translations), the core of evalplat (its top-level modules and
evalplat/templates, catalogue evalplat/translations), forms/ and reports/.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = "zh_Hans"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
METHODS = {".py": "python", ".html": "jinja2"}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do"}


@dataclass(frozen=True)
class Unit:
    name: str
    root: Path
    recursive: bool

    @property
    def po_path(self) -> Path:
        return self.root / "translations" / LOCALE / "LC_MESSAGES" / "messages.po"

    def sources(self) -> Iterator[Path]:
        if self.recursive:
            for path in sorted(self.root.rglob("*")):
                if path.suffix in METHODS and "translations" not in path.parts and "__pycache__" not in path.parts:
                    yield path
        else:
            yield from sorted(p for p in self.root.glob("*.py"))
            yield from sorted((self.root / "templates").rglob("*.html"))


def units() -> list[Unit]:
    out = [Unit("evalplat", ROOT / "evalplat", recursive=False)]
    for pkg in sorted((ROOT / "evalplat").iterdir()):
        if pkg.is_dir() and (pkg / "__init__.py").exists():
            out.append(Unit(f"evalplat.{pkg.name}", pkg, recursive=True))
    out += [Unit(name, ROOT / name, recursive=True) for name in ("forms", "reports") if (ROOT / name).is_dir()]
    return out


def extract(unit: Unit) -> Catalog:
    catalog = Catalog(locale=LOCALE, project="evalplat")
    for path in unit.sources():
        method = METHODS[path.suffix]
        if method == "jinja2":
            method = "jinja2.ext:babel_extract"
        for lineno, message, comments, context in extract_from_file(
                method, str(path), keywords=KEYWORDS, options=JINJA_OPTIONS if path.suffix == ".html" else None):
            catalog.add(message, None, [(str(path.relative_to(ROOT)), lineno)], auto_comments=comments,
                        context=context)
    return catalog


def load(unit: Unit) -> Catalog | None:
    if not unit.po_path.exists():
        return None
    with unit.po_path.open("rb") as fh:
        return read_po(fh, locale=LOCALE)


def update() -> None:
    for unit in units():
        template = extract(unit)
        if not len(template):
            continue
        loaded = load(unit)
        existing = loaded or Catalog(locale=LOCALE, project="evalplat")
        created = existing.creation_date
        existing.update(template, no_fuzzy_matching=True)
        existing.obsolete.clear()
        if loaded is not None:
            # Keep the header's date: re-extracting must not touch catalogues whose messages did not change,
            # or every engineer's update rewrites every package's catalogue and their branches collide.
            existing.creation_date = created
        buffer = io.BytesIO()
        write_po(buffer, existing, width=120, sort_output=True, omit_header=False)
        unit.po_path.parent.mkdir(parents=True, exist_ok=True)
        if not unit.po_path.exists() or unit.po_path.read_bytes() != buffer.getvalue():
            unit.po_path.write_bytes(buffer.getvalue())
        missing = sum(1 for m in existing if m.id and not m.string)
        print(f"{unit.name}: {len(template)} messages, {missing} untranslated -> {unit.po_path.relative_to(ROOT)}")


def compile_all() -> None:
    for unit in units():
        catalog = load(unit)
        if catalog is None:
            continue
        with unit.po_path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def untranslated() -> dict[str, list[str]]:
    """Message ids used in the code that have no Chinese text, per unit."""
    out: dict[str, list[str]] = {}
    for unit in units():
        template = extract(unit)
        if not len(template):
            continue
        catalog = load(unit)
        missing = []
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id, context=message.context) if catalog else None
            if found is None or not found.string or (isinstance(found.string, tuple) and not all(found.string)) \
                    or found.fuzzy:
                missing.append(message.id if isinstance(message.id, str) else message.id[0])
        if missing:
            out[unit.name] = missing
    return out


def conflicts() -> dict[str, dict[str, str]]:
    """Message ids translated differently in two catalogues.

    Flask-Babel merges every catalogue into one, so only one of the translations would ever be shown.
    """
    seen: dict[str, dict[str, str]] = {}
    for unit in units():
        catalog = load(unit)
        if catalog is None:
            continue
        for message in catalog:
            if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string \
                    and not message.context:
                seen.setdefault(message.id, {})[unit.name] = message.string
    return {msgid: by_unit for msgid, by_unit in seen.items() if len(set(by_unit.values())) > 1}


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "compile"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        missing = untranslated()
        for name, ids in missing.items():
            for msgid in ids:
                print(f"{name}: {msgid}")
        clashes = conflicts()
        for msgid, by_unit in clashes.items():
            print(f"conflicting translations of {msgid!r}: {by_unit}")
        return 1 if missing or clashes else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
