"""The CJK font used by charts and the PDF, found on the machine (Debian fonts-wqy-microhei or fonts-noto-cjk).

``EVALPLAT_CJK_FONT`` may name another TrueType/OpenType file (``.ttf``/``.ttc``/``.otf`` with TrueType
outlines). The CI installs the Debian packages in ``.ci/system-packages.sh``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class FontMissing(RuntimeError):
    """No CJK font: charts and PDFs would show empty boxes instead of Chinese."""


@dataclass(frozen=True)
class CJKFont:
    path: Path
    family: str  # the family name matplotlib knows the font by


@lru_cache(maxsize=4)
def _load(path: str) -> CJKFont:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)  # idempotent registration of the file, not of rc settings
    family = font_manager.FontProperties(fname=path).get_name()
    return CJKFont(Path(path), family)


def cjk_font_path() -> Path:
    """The CJK font file to use (without loading matplotlib); raises :class:`FontMissing` naming the places
    looked at."""
    wanted = os.environ.get("EVALPLAT_CJK_FONT")
    paths = [wanted] if wanted else list(CANDIDATES)
    for path in paths:
        if path and Path(path).is_file():
            return Path(path)
    raise FontMissing("no CJK font found (looked at: " + ", ".join(p for p in paths if p)
                      + "); install fonts-wqy-microhei or set EVALPLAT_CJK_FONT")


def cjk_font() -> CJKFont:
    """The CJK font to use, registered with matplotlib; raises :class:`FontMissing` naming the places looked at."""
    return _load(str(cjk_font_path()))
