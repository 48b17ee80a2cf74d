"""China's administrative divisions, province to township, from the list the ``jionlp`` package ships.

jionlp's ``dictionary/china_location.zip`` holds the national division list (provinces, prefectures,
counties with their six-digit codes and short names, townships and sub-districts, villages), one
entry a line, indented by level. The redactor reads the first four levels once, on first use, from
the installed package's files without importing jionlp itself (its import is slow and loads much
else). Villages (650,000 names, many of them ordinary words) are not read: village committees are
found by their form (…村委会、…村民委员会) instead.

A place name's short form (杭州 for 杭州市, 蓬江 for 蓬江区) is matched on its own only when it is not
an ordinary word; otherwise (和平、光明、新华、长安 …) only with its suffix or before an institution
word — jieba's dictionary, already loaded for the tagger, decides which short forms are ordinary words.
"""

from __future__ import annotations

import importlib.util
import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import tagger

#: the package that ships the list and the file inside it
SOURCE_PACKAGE = "jionlp"
SOURCE_FILE = "dictionary/china_location.zip"

#: suffixes of township-level names the detector searches for (the list's other township-level
#: units, such as farms and development zones, end in words that also end ordinary phrases)
TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡", "苏木")
_ADMIN_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "自治州", "自治县", "自治旗",
                   "地区", "林区", "新区", "省", "市", "区", "县", "旗", "盟", "州")


@dataclass(frozen=True, slots=True)
class Divisions:
    """The names of the national division list, by level, with the short forms safe to match alone."""

    provinces: frozenset[str]
    prefectures: frozenset[str]
    counties: frozenset[str]
    towns: frozenset[str]
    short_forms: frozenset[str]  # stems that are not ordinary words (杭州、蓬江、五邑 is not one)
    guarded_short_forms: frozenset[str]  # stems that are ordinary words too (和平、光明)

    @property
    def full_names(self) -> frozenset[str]:
        """Province, prefecture and county names with their suffixes."""
        return self.provinces | self.prefectures | self.counties


def strip_admin_suffix(name: str) -> str:
    """A division name without its administrative suffix, keeping at least two characters."""
    for suffix in _ADMIN_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def source_path() -> Path | None:
    """The division list's file in the installed jionlp package (found without importing it)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    return path if path.is_file() else None


def _is_ordinary_word(stem: str) -> bool:
    tag = tagger.word_tag(stem)
    if tag is None or tag == "ns":
        return False
    freq = tagger.word_freq(stem)
    return freq >= 500 or (not tag.startswith("n") and freq >= 20)


def parse(lines: list[str]) -> Divisions:
    """Build :class:`Divisions` from the lines of ``china_location.txt`` (tab-indented by level)."""
    levels: list[set[str]] = [set(), set(), set(), set()]
    stems: set[str] = set()
    for line in lines:
        depth = len(line) - len(line.lstrip("\t"))
        if depth > 3:
            continue
        fields = line.strip("\t\r\n").split("\t")
        name = fields[0].strip()
        if not name:
            continue
        levels[depth].add(name)
        if depth <= 2:
            short = fields[2].strip() if len(fields) > 2 and fields[2].strip() else strip_admin_suffix(name)
            stems.update(s for s in (short, strip_admin_suffix(name)) if 2 <= len(s) < len(name))
    towns = {t for t in levels[3] if t.endswith(TOWN_SUFFIXES) and len(t) >= 3}
    stems = {s for s in stems if not s.endswith("族")}  # 东乡族 is a people, not a place
    free = {s for s in stems if not _is_ordinary_word(s)}
    return Divisions(frozenset(levels[0]), frozenset(levels[1]), frozenset(levels[2]), frozenset(towns),
                     frozenset(free), frozenset(stems - free))


_lock = threading.Lock()
_cache: dict[str, Divisions] = {}


def divisions() -> Divisions:
    """The national list, read once; raises RuntimeError naming the package when it is not installed."""
    found = _cache.get("all")
    if found is not None:
        return found
    with _lock:
        if "all" not in _cache:
            path = source_path()
            if path is None:
                raise RuntimeError(f"the national division list needs the {SOURCE_PACKAGE!r} package "
                                   f"({SOURCE_FILE}); install the project's dependencies")
            with zipfile.ZipFile(path) as archive:
                member = archive.namelist()[0]
                with archive.open(member) as raw:
                    lines = [line for line in io.TextIOWrapper(raw, encoding="utf-8")
                             if not line.startswith("\t\t\t\t")]
            _cache["all"] = parse(lines)
    return _cache["all"]
