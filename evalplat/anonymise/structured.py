"""Detectors for structured identifiers: numbers, e-mail, plates, case and document numbers, addresses.

They run on the context's normalised text (full-width digits, letters and brackets folded to
half-width, one character for one, so offsets are those of the original).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from evalplat.ocr_text import repair_digits

from .context import Context, Detector
from .spans import PRIORITY_ADDRESS, PRIORITY_STRUCTURED, Candidate

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """The check character of an 18-digit resident ID number (GB 11643-1999, ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def valid_id18(number: str) -> bool:
    """True for an 18-character ID number with a valid birth date and check character (x or X)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if not _valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14])):
        return False
    return id_check_char(number[:17]) == number[17].upper()


def valid_id15(number: str) -> bool:
    """True for a 15-digit first-generation ID number with a valid birth date."""
    return (len(number) == 15 and number.isdigit()
            and _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])))


def luhn_ok(number: str) -> bool:
    """Luhn checksum, as bank-card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def shaped_identifier(digits: str) -> bool:
    """The digits are an identifier by their shape alone — an ID number's date and check character, a bank
    card's Luhn sum, a phone number's prefix and length — not merely by the words before them."""
    # classify_digits with no words before the run: only the shape rules can answer these three kinds
    return classify_digits(digits.upper() if len(digits) == 18 else digits, "") in ("id_card", "bank_card", "phone")


def classify_digits(digits: str, context: str) -> str | None:
    """Kind of a run of digits (separators removed), or None when it is not an identifier.

    ``context`` is the text just before the run; it settles numbers whose checksum fails.
    """
    n = len(digits)
    if n == 18 and valid_id18(digits):
        return "id_card"
    if n == 15 and valid_id15(digits) and "卡" not in context:
        return "id_card"
    if n == 17 and digits.isdigit():
        return "licence"
    if 16 <= n <= 19 and digits.isdigit() and luhn_ok(digits):
        return "bank_card"
    if n == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "phone"
    if digits.startswith("0") and 10 <= n <= 12:
        return "phone"
    if digits.startswith("86") and n in (13, 14):
        return "phone"
    if n >= 11:
        if "身份" in context:
            return "id_card"
        if "卡" in context or "账" in context:
            return "bank_card"
        if "执业" in context:
            return "licence"
        return "number"
    return None


#: what a digit run's match holds besides its digits and a final X (separators, +86's plus, brackets): its
#: digits are all ``\d`` characters, for which ``\d`` and ``str.isdigit`` agree
_NOT_DIGIT = re.compile(r"[^\dXx]")


def ctx_digits(ctx: Context) -> str:
    """:func:`~evalplat.ocr_text.repair_digits` of the run's text (OCR's O/l/I for 0/1), computed once and shared by the number detectors."""
    view = ctx.cache.get("digits")
    if view is None:
        view = ctx.cache["digits"] = repair_digits(ctx.norm)
    return view  # type: ignore[return-value]


class DigitRunDetector(Detector):
    """ID, phone, bank-card, licence and other long numbers, with any spaces, dashes or a line break
    between digits, and OCR's O/l/I for 0/1 inside them."""

    name = "digits"
    _pattern = re.compile(
        r"(?<![0-9A-Za-z])(?:\+\s?86[\s\-]?|\(\+?86\)\s?)?(?:\(0\d{2,3}\)\s?)?\d(?:(?:[ \-\u00a0.]|\r?\n)?\d){6,22}[Xx]?"
        r"(?![0-9A-Za-z])"
    )

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        view = ctx_digits(ctx)
        for m in self._pattern.finditer(view):
            if "\n" in m.group():
                yield from self._split(view, m.start(), m.group())
            else:
                cand = self._classify(view, m.start(), m.end(), m.group())
                if cand is not None:
                    yield cand

    def _split(self, view: str, start: int, raw: str) -> Iterator[Candidate]:
        """A run across a line break: its lines are separate numbers when each is one on its own; one number
        broken by the break when the whole has a shape of its own (an ID's check character, a phone's length)
        — a phone number at the end of a line does not swallow the year that opens the next one."""
        pieces = []
        pos = start
        for line in raw.split("\n"):
            pieces.append((pos, pos + len(line.rstrip("\r")), line.rstrip("\r")))
            pos += len(line) + 1
        alone = [self._classify(view, a, b, t) for a, b, t in pieces if t]
        if alone and all(c is not None for c in alone):
            yield from (c for c in alone if c is not None)
            return
        whole = self._classify(view, start, start + len(raw), raw)
        found = [c for c in alone if c is not None]
        if whole is not None and (not found or shaped_identifier(_NOT_DIGIT.sub("", raw))):
            yield whole
        else:
            yield from found

    def _classify(self, view: str, start: int, end: int, raw: str) -> Candidate | None:
        digits = _NOT_DIGIT.sub("", raw)
        if not digits or (digits[-1] in "Xx" and len(digits) != 18):
            return None
        before = view[max(0, start - 12):start]
        kind = classify_digits(digits.upper() if len(digits) == 18 else digits, before)
        if kind is None and 7 <= len(digits) <= 8 and _PHONE_CUE.search(before):
            kind = "phone"
        return None if kind is None else Candidate(start, end, kind, PRIORITY_STRUCTURED, self.name)


_PHONE_CUE = re.compile(r"(?:电话|手机|座机|传真|联系方式|号码|Tel|TEL|tel)[^，。；\n]{0,4}$")


class EmailDetector(Detector):
    """E-mail addresses."""

    name = "email"
    _pattern = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        for m in self._pattern.finditer(ctx.norm):
            yield Candidate(m.start(), m.end(), "email", PRIORITY_STRUCTURED, self.name)


class PlateDetector(Detector):
    """Vehicle plates: province character, letter, five or six characters (粤J·12345, 粤AD12345)."""

    name = "plate"
    _pattern = re.compile(
        r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]\s?"
        r"[A-HJ-NP-Za-hj-np-z]\s?[·•・.\-]?\s?[A-HJ-NP-Za-hj-np-z0-9]{4}[A-HJ-NP-Za-hj-np-z0-9挂学警港澳]"
        r"[A-HJ-NP-Za-hj-np-z0-9]?(?![A-Za-z0-9])"
    )

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        for m in self._pattern.finditer(ctx.norm):
            if sum(ch.isdigit() for ch in m.group()) >= 2:
                yield Candidate(m.start(), m.end(), "plate", PRIORITY_STRUCTURED, self.name)


_YEAR_BRACKET = r"[(\[〔【]\s*(?:19|20)\d{2}\s*[)\]〕】]"


class CaseNumberDetector(Detector):
    """Court case numbers: (2022)粤0703刑初123号, （2023）粤07民终45号之一, (2021)最高法刑申1号."""

    name = "case_number"
    _pattern = re.compile(
        _YEAR_BRACKET + r"\s*[\u4e00-\u9fff]{1,3}\s*\d{0,6}\s*[\u4e00-\u9fff]{0,6}?\s*\d+\s*号"
        r"(?:之[一二三四五六七八九十\d]+)?"
    )

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx_digits(ctx)
        for m in self._pattern.finditer(norm):
            start = m.start()
            if "字" in m.group():  # arbitration and agency numbers carry their prefix: 浦劳人仲（2023）办字第8812号
                start = _walk_back(norm, start, _PREFIX_CHAR, 5, 0)
            yield Candidate(start, m.end(), "case_number", PRIORITY_STRUCTURED, self.name)


#: Prefixes of nationally published documents (judicial interpretations, ministry rules):
#: legal substance, not identifiers.
NATIONAL_DOC_PREFIXES = ("法释", "法发", "法办发", "法办", "高检发", "司发通", "司发", "司规", "国发",
                         "国办发", "主席令", "国务院令", "公通字", "人社部发", "人社部规", "财行", "粤司办",
                         "粤司", "粤府", "粤办发")


#: characters a document-number prefix is made of (江法援, 粤司办 …)
_DOC_PREFIX_CHAR = r"[^\W\d_根据依照按的及和与见附经以之在将于对由为该本号第文编函了是等向即并请]"


def _walk_back(text: str, end: int, char: re.Pattern[str], limit: int, floor: int) -> int:
    """Start of the run of at most ``limit`` characters matching ``char`` that ends at ``end``
    (not before ``floor``); ``end`` itself when there is none."""
    start = end
    while start > floor and end - start < limit and char.match(text, start - 1):
        start -= 1
    return start


_PREFIX_CHAR = re.compile(_DOC_PREFIX_CHAR)


class DocNumberDetector(Detector):
    """Document numbers: legal-aid numbers (江法援〔2023〕第0178号) and other local file numbers.

    A number is a prefix of one to seven name characters, a bracketed year and ``第N号``. The
    bracketed tail is searched for (a cheap scan for the bracket) and the prefix is taken by
    walking back from it, which finds what ``([…]{1,7})\\s*〔year〕第N号`` would without trying
    that pattern at every character.
    """

    name = "doc_number"
    _tail = re.compile(_YEAR_BRACKET + r"\s*第?\s*\d+\s*号")
    _prefix_char = re.compile(_DOC_PREFIX_CHAR)
    _space = re.compile(r"\s*")

    #: numbers of expert opinions and police files: 济公鉴（法医）字〔2022〕0036号、深公（福）行罚决字〔2021〕12号 —
    #: the tail is searched for and the prefix (with one bracketed part) taken by walking back
    _zi_tail = re.compile(r"字\s*" + _YEAR_BRACKET + r"\s*第?\s*\d+\s*号")
    _bracketed = re.compile(r"[(（]" + _DOC_PREFIX_CHAR + r"{1,6}[)）]$")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx_digits(ctx)
        for m in self._zi_tail.finditer(norm):
            start = _walk_back(norm, m.start(), self._prefix_char, 4, 0)
            inner = self._bracketed.search(norm, max(0, start - 8), start)
            if inner is not None:
                start = _walk_back(norm, inner.start(), self._prefix_char, 6, 0)
            if start < m.start():
                yield Candidate(start, m.end(), "doc_number", PRIORITY_STRUCTURED + 1, self.name)
        floor = 0
        for m in self._tail.finditer(norm):
            # \s* between the prefix and the bracket: step back over whitespace first
            end = m.start()
            while end > floor and norm[end - 1].isspace():
                end -= 1
            start = _walk_back(norm, end, self._prefix_char, 7, floor)
            if start == end:
                continue
            prefix = norm[start:end]
            if "援" in prefix:
                kind = "legal_aid_number"
            elif prefix.endswith(NATIONAL_DOC_PREFIXES) or prefix.startswith(NATIONAL_DOC_PREFIXES):
                continue
            else:
                kind = "doc_number"
            floor = m.end()
            yield Candidate(start, m.end(), kind, PRIORITY_STRUCTURED + 1, self.name)


_UNIT_STREET = re.compile(r"路|街|巷|弄|胡同|村|组|号|栋|幢|座|室|房|楼|小区|花园|大厦|社区|苑|里|坊|新村|大道|公寓|广场")
_NAME_CHARS = r"[^\W\d_的了在和与及或等称说是因于向对被把将到已也都并又系为从由经给叫让找据住址位处所其该此]"


_ADDRESS_CUES = ("住址", "住所地", "住所", "户籍地", "户籍所在地", "户口所在地", "现住址", "现居住地", "经常居住地", "居住地",
                 "暂住地", "送达地址", "联系地址", "通讯地址", "通信地址", "地址", "家住", "现住", "暂住", "居住在", "居住于",
                 "住在", "位于")


class AddressDetector(Detector):
    """Street-level addresses, after a cue (住、住址、住所地、户籍地 …) or as road + house number."""

    name = "address"
    # every branch starts with a literal (a bare 住 checks what precedes it afterwards), so that
    # ``re`` skips positions that start no cue in C
    _cued = re.compile(
        "(?:" + "|".join(c + "[:：为是在]?" for c in _ADDRESS_CUES)
        + r"|住(?<![^，,。；;\s(（]住)(?![院宿房手口]))"
        r"\s*([^\s，,。；;！？!?()（）\n“”\"、]{4,48})"
    )
    # road + house number: the road word and number are searched for, the name before them is
    # taken by walking back over up to ten name characters
    _street_tail = re.compile(
        r"(?:路|大道|大街|街|巷|道|村|里|弄)\s*\d+\s*(?:号|弄)(?:之\d+)?"
        r"(?:\s*[\dA-Za-z\-]+\s*(?:栋|幢|座|楼|层|单元|室|房|铺|号))*"
    )
    _name_char = re.compile(_NAME_CHARS)

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._cued.finditer(norm):
            body = m.group(1)
            if _UNIT_STREET.search(body):
                yield Candidate(m.start(1), m.end(1), "address", PRIORITY_ADDRESS, self.name)
        floor = 0
        for m in self._street_tail.finditer(norm):
            start = _walk_back(norm, m.start(), self._name_char, 10, floor)
            if start == m.start():
                continue
            floor = m.end()
            yield Candidate(start, m.end(), "address", PRIORITY_ADDRESS - 1, self.name)


# --- identifiers beyond digit runs ------------------------------------------------------------------
#: the 31 characters of a unified social credit code (GB 32100-2015: no I, O, S, V, Z)
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The check character of a unified social credit code (GB 32100-2015, modulus 31)."""
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def valid_credit_code(code: str) -> bool:
    """True for an 18-character unified social credit code whose check character is right."""
    code = code.upper()
    return (len(code) == 18 and all(ch in CREDIT_CODE_CHARS for ch in code)
            and credit_code_check_char(code[:17]) == code[17])


_PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


class IdentifierDetector(Detector):
    """Unified social credit codes, WeChat ids, QQ numbers, passport, permit and vessel numbers.

    A credit code counts when its check character is right, or after 信用代码 whatever its check
    (OCR damage); WeChat and QQ ids, passports and permits need their cue word; fishing and cargo
    vessels are recognised by their form (闽狮渔06789, 粤江货1234) and IMO/MMSI numbers by their label.
    """

    name = "identifier"
    _credit = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{2}\d{6}[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{10}"
                         r"(?![0-9A-Za-z])")
    _credit_cue = re.compile(r"信用代码|信用编码|纳税人识别号|注册号")
    _wxid = re.compile(r"(?<![0-9A-Za-z])wxid_[0-9a-z]{4,24}")
    _wechat = re.compile(r"(?:微信|WeChat|wechat|VX|vx|V信)(?:号|账号|ID|id)?\s*(?:是|为|:|：)?\s*"
                         r"([A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])")
    _qq = re.compile(r"(?:QQ|qq|扣扣)(?:号码|号|账号)?\s*(?:是|为|:|：)?\s*([1-9]\d{4,10})(?!\d)")
    _passport = re.compile(r"(?:护照|通行证|旅行证|签证)(?:号码|号|编号)?\s*(?:是|为|:|：)?\s*([A-Za-z]{1,2}\s?\d{7,9})(?![0-9A-Za-z])")
    _passport_bare = re.compile(r"(?<![0-9A-Za-z])[EG]\d{8}(?![0-9A-Za-z])")
    _vessel = re.compile("[" + _PROVINCE_CHARS + r"][\u4e00-\u9fff]{1,3}?(?:渔|货|运|油|拖|客|工)\s?\d{3,6}(?!\d)")
    _ship_number = re.compile(r"(?:IMO|MMSI|船舶识别号|船舶登记号|船舶编号|船检号)\s*(?:号|编号|No\.?)?\s*(?:为|是|:|：)?\s*"
                              r"([A-Z]{0,3}\d{7,14})(?!\d)")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._credit.finditer(norm):
            code = m.group()
            if any(ch.isalpha() for ch in code) or not valid_id18(code):
                before = norm[max(0, m.start() - 12):m.start()]
                if valid_credit_code(code) or self._credit_cue.search(before):
                    yield Candidate(m.start(), m.end(), "credit_code", PRIORITY_STRUCTURED + 1, self.name)
        for m in self._wxid.finditer(norm):
            yield Candidate(m.start(), m.end(), "wechat", PRIORITY_STRUCTURED, self.name)
        for pattern, kind in ((self._wechat, "wechat"), (self._qq, "qq"), (self._passport, "passport"),
                              (self._ship_number, "vessel")):
            for m in pattern.finditer(norm):
                yield Candidate(m.start(1), m.end(1), kind, PRIORITY_STRUCTURED, self.name)
        for m in self._passport_bare.finditer(norm):
            yield Candidate(m.start(), m.end(), "passport", PRIORITY_STRUCTURED - 1, self.name)
        for m in self._vessel.finditer(norm):
            yield Candidate(m.start(), m.end(), "vessel", PRIORITY_STRUCTURED, self.name)


_MONTH_DAY = r"(?:0?[1-9]|1[0-2])\s*月\s*(?:0?[1-9]|[12]\d|3[01])\s*日"
_DATE_FORMS = (r"((?:19|20)\d{2})\s*年\s*(" + _MONTH_DAY + ")"
               r"|((?:19|20)\d{2})([.\-/](?:0?[1-9]|1[0-2])[.\-/](?:0?[1-9]|[12]\d|3[01]))(?!\d)")


class BirthDateDetector(Detector):
    """Exact birth dates of natural persons, reduced to the year (1985年3月12日出生 → 1985年出生).

    A date counts as a birth date after 出生、生于、出生日期、出生年月 or before 出生、生; the span covers
    month and day and its placeholder is empty, so the year stays where it was.
    """

    name = "birth_date"
    _after_cue = re.compile(r"(?:出生日期|出生年月日|出生年月|生日|出生于|生于|出生)\s*(?:为|是|:|：)?\s*(?:" + _DATE_FORMS + ")")
    _before_cue = re.compile("(?:" + _DATE_FORMS + r")\s*(?:出生|生(?![效产活效存]))")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for pattern in (self._after_cue, self._before_cue):
            for m in pattern.finditer(norm):
                group = 2 if m.group(2) else 4
                yield Candidate(m.start(group), m.end(group), "birth_date", PRIORITY_STRUCTURED, self.name)
