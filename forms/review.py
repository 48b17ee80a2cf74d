"""The rubric review form: a Flask-WTF form class built from a rubric.

Server-side validation is the authority; the browser script (``forms/static/rubric_form.js``) only helps.
Every item of the rubric becomes a sub-form named after its code, so the posted fields are
``<code>-level`` (A-D), ``<code>-points``, ``<code>-comment``, ``<code>-na`` (only where the item may be
marked not applicable) and ``<code>-veto`` (only on veto items), plus ``rubric_hash``, the CSRF token and
the two buttons ``save_draft`` and ``submit_review``.

Two modes:

* **draft** -- anything may be left empty, but whatever is filled in must be valid (levels, ranges,
  level and points agreeing, N/A and vetoes only where allowed);
* **submit** -- additionally every item is either scored (level and points) or marked N/A, and a comment
  is required for level D, for N/A and for a triggered veto.

Any field the form does not know -- a veto posted for an item that is not a veto item, an N/A for an
item that may not be N/A, an unknown item -- and a rubric hash that is not the form's rubric make the
form invalid, each with a message naming the item. An invalid form yields nothing: :meth:`ReviewForm.scores`
refuses to run, so the caller changes nothing.

Typical use in a view::

    form = review_form_class(rubric)(data=initial_data(saved_entries))
    if form.validate_on_submit():
        scores = form.scores()            # ReviewScores: points, vetoes, per-item entries
        if scores.mode == SUBMIT:
            result = scores.evaluate(rubric, bands=campaign_bands)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, ClassVar

from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    Form,
    FormField,
    HiddenField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.widgets import NumberInput

from forms.rubrics import GRADE_LABELS, Evaluation, GradeBands, Item, Rubric, Text, pick_language

DRAFT = "draft"
SUBMIT = "submit"
COMMENT_MAX_CHARS = 4000

Number = int | float


def current_language(locale: object | None = None) -> str:
    """``"zh"`` or ``"en"`` for ``locale``, or for the request's locale when ``locale`` is ``None``."""
    if locale is None:
        try:
            locale = get_locale()
        except RuntimeError:  # outside an application context: the platform's default language
            locale = None
    return pick_language(locale)


def localized(text: Text | None, locale: object | None = None) -> str:
    """The Chinese or English side of a rubric text for ``locale`` (default: the current locale).

    Parameters
    ----------
    text : Text or None
        A bilingual text from the rubric (item label, descriptor, veto ground ...).
    locale : str or babel.Locale, optional
        Any ``zh*`` locale picks Chinese, anything else English.
    """
    if text is None:
        return ""
    return text.get(current_language(locale))


class LocalizedText:
    """A rubric text that picks its language when rendered (for labels built once per form class).

    Unlike ``flask_babel.LazyString`` it escapes itself in HTML: rubric texts are data edited by
    organisers, not trusted markup.
    """

    __slots__ = ("text", "template")

    def __init__(self, text: Text, template: str = "{}") -> None:
        self.text = text
        self.template = template

    def __str__(self) -> str:
        return self.template.format(localized(self.text))

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"LocalizedText({self.text!r})"


def _fmt(value: Number | Decimal) -> str:
    """Points as people write them: 8, 8.5 (never 8.0)."""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


@dataclass(frozen=True)
class ItemEntry:
    """What the reviewer entered for one item (after validation)."""

    code: str
    level: str | None
    points: Number | None
    not_applicable: bool
    veto: bool
    comment: str

    @property
    def filled(self) -> bool:
        """Scored (level and points) or marked not applicable."""
        return self.not_applicable or (self.level is not None and self.points is not None)


@dataclass(frozen=True)
class ReviewScores:
    """A validated review, ready for :meth:`Rubric.evaluate` and for storing as review items.

    Attributes
    ----------
    mode : str
        ``"draft"`` or ``"submit"``.
    entries : dict
        Item code to :class:`ItemEntry`, for every item of the rubric in rubric order.
    points : dict
        Item code to points, or ``None`` for N/A: the items marked N/A or given points (in submit mode,
        every item) -- ready for :meth:`Rubric.evaluate` once complete.
    vetoes : tuple of str
        Codes of the veto items triggered.
    """

    mode: str
    entries: dict[str, ItemEntry]
    points: dict[str, Number | None]
    vetoes: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Every item is scored or marked N/A (always true in submit mode)."""
        return all(entry.filled for entry in self.entries.values())

    def evaluate(self, rubric: Rubric, *, bands: GradeBands | Mapping[str, Any] | None = None) -> Evaluation:
        """The total and grade (``ValueError`` naming the first unfilled item when incomplete)."""
        return rubric.evaluate(self.points, self.vetoes, bands=bands)


@lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WTFormsTranslations:
    """WTForms' own messages in the request's language, each catalogue read once per process.

    Flask-WTF reads WTForms' message catalogue from disk again on every request that builds a form (it
    keeps it on the request only); the case page builds one on every request.
    """

    def _catalogue(self) -> support.NullTranslations:
        return _wtforms_catalogue(str(get_locale()))

    def gettext(self, string: str) -> str:
        return self._catalogue().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue().ungettext(singular, plural, n)


_TRANSLATIONS = _WTFormsTranslations()


class ReviewForm(FlaskForm):
    """Base class of the forms made by :func:`review_form_class`; do not instantiate it directly."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            translations = FlaskForm.Meta.get_translations(self, form)
            if not has_request_context() or "babel" not in current_app.extensions or translations is None:
                return translations
            return _TRANSLATIONS

    rubric: ClassVar[Rubric]
    rubric_hash = HiddenField()
    save_draft = SubmitField(_l("Save draft"))
    submit_review = SubmitField(_l("Submit review"))
    # ticked to confirm a submission where the page asks for it (the reviewer's case page does)
    confirmed = BooleanField()

    def __init__(self, *args: Any, mode: str | None = None, **kwargs: Any) -> None:
        if mode not in (None, DRAFT, SUBMIT):
            raise ValueError(f"mode must be {DRAFT!r} or {SUBMIT!r}, not {mode!r}")
        self._mode = mode
        self._posted: list[str] | None = None
        self._points: dict[str, Decimal | None] = {}
        self._valid = False
        super().__init__(*args, **kwargs)

    # -- processing -----------------------------------------------------------------------------------------
    def process(self, formdata: Any = None, obj: Any = None, data: Any = None, extra_filters: Any = None,
                **kwargs: Any) -> None:
        formdata = self.meta.wrap_formdata(self, formdata)
        self._posted = list(formdata.keys()) if formdata is not None else None
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)

    @property
    def mode(self) -> str:
        """``"submit"`` when asked for or when the submit button was pressed, otherwise ``"draft"``."""
        if self._mode is not None:
            return self._mode
        return SUBMIT if self.submit_review.data else DRAFT

    def item_forms(self) -> Iterator[tuple[Item, Form]]:
        """The rubric's items with their bound sub-forms, in rubric order."""
        for item in self.rubric.items:
            yield item, getattr(self, item.code).form

    def view(self) -> RubricView:
        """The rubric's texts in the current language, escaped once per rubric version (for templates)."""
        return rubric_view(self.rubric, current_language())

    def item_views(self) -> Iterator[tuple[ItemView, Form]]:
        """Each item's :class:`ItemView` with its bound sub-form, in rubric order (for templates)."""
        for view in self.view().items:
            yield view, getattr(self, view.code).form

    # -- validation -----------------------------------------------------------------------------------------
    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """Validate everything; messages go to the field concerned or, for unknown fields, ``form_errors``."""
        fields_ok = super().validate(extra_validators)
        self._valid = False
        self._check_posted_names()
        posted_hash = self.rubric_hash.data
        if self._posted is not None and self.rubric_hash.name not in self._posted:
            posted_hash = None
        if posted_hash != self.rubric.content_hash:
            self.form_errors.append(_("This form belongs to another version of the rubric; reload the page "
                                      "and enter the scores again."))
        for item, sub in self.item_forms():
            self._check_item(item, sub)
        self._valid = fields_ok and not self.errors
        return self._valid

    def _known_names(self) -> set[str]:
        names: set[str] = set()
        for field in self:
            if isinstance(field, FormField):
                names.update(sub.name for sub in field.form)
            else:
                names.add(field.name)
        return names

    def _check_posted_names(self) -> None:
        if self._posted is None:
            return
        known = self._known_names()
        for name in self._posted:
            if name in known:
                continue
            code, _sep, part = name.partition("-")
            if code in self._item_codes():
                item = self.rubric.item(code)
                label = localized(item.label)
                if part == "veto":
                    message = _("%(item)s is not a veto item; a veto cannot be recorded on it.", item=label)
                elif part == "na":
                    message = _("%(item)s cannot be marked not applicable.", item=label)
                else:
                    message = _("Unknown field %(field)s for %(item)s.", field=repr(name), item=label)
            elif part:
                message = _("Unknown item %(item)s.", item=repr(code))
            else:
                message = _("Unknown field %(field)s.", field=repr(name))
            self.form_errors.append(message)

    def _item_codes(self) -> set[str]:
        return {item.code for item in self.rubric.items}

    def _check_item(self, item: Item, sub: Form) -> None:
        label = localized(item.label)
        submit = self.mode == SUBMIT
        level_code = (sub.level.data or "").strip() or None
        level = None
        if level_code is not None:
            try:
                level = item.level(level_code)
            except KeyError:
                sub.level.errors.append(_("%(item)s: %(value)s is not a level; choose A, B, C or D.",
                                          item=label, value=repr(level_code)))
        points = self._points[item.code] = self._parse_points(item, sub, label)
        comment = (sub.comment.data or "").strip()
        if len(comment) > COMMENT_MAX_CHARS:
            sub.comment.errors.append(_("%(item)s: the comment is longer than %(max)d characters.",
                                        item=label, max=COMMENT_MAX_CHARS))
        not_applicable = item.allows_na and bool(sub.na.data)
        veto = item.veto and bool(sub.veto.data)
        if not_applicable:
            if level_code is not None or (sub.points.data or "").strip():
                sub.na.errors.append(_("%(item)s is marked not applicable, so it takes no level and no points.",
                                       item=label))
            if veto:
                sub.veto.errors.append(_("%(item)s is marked not applicable and cannot carry a veto.", item=label))
            if submit and not comment:
                sub.comment.errors.append(_("%(item)s: explain in a comment why it does not apply.", item=label))
            return
        if level is not None and points is not None and not level.low <= points <= level.high:
            sub.points.errors.append(_("%(item)s: %(points)s points do not fit level %(level)s "
                                       "(%(range)s points).", item=label, points=_fmt(points),
                                       level=level.code, range=_range(level.low, level.high)))
        if not submit:
            return
        if level_code is None:
            sub.level.errors.append(_("%(item)s: choose a level.", item=label))
        if points is None and not sub.points.errors:
            sub.points.errors.append(_("%(item)s: enter the points.", item=label))
        if level_code == "D" and not comment:
            sub.comment.errors.append(_("%(item)s: a comment is required for level D.", item=label))
        elif veto and not comment:
            sub.comment.errors.append(_("%(item)s: a comment is required when the veto is triggered.", item=label))

    def _parse_points(self, item: Item, sub: Form, label: str) -> Decimal | None:
        raw = (sub.points.data or "").strip()
        if not raw:
            return None
        try:
            value = Decimal(raw.replace("，", ".").replace(",", ".").replace("．", "."))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            sub.points.errors.append(_("%(item)s: the points must be a number.", item=label))
            return None
        if not 0 <= value <= Decimal(str(item.max_points)):
            sub.points.errors.append(_("%(item)s: the points must be between 0 and %(max)s.",
                                       item=label, max=_fmt(item.max_points)))
            return None
        if not self.rubric.on_step(float(value)):
            sub.points.errors.append(_("%(item)s: the points must be a multiple of %(step)s.",
                                       item=label, step=_fmt(self.rubric.points_step)))
            return None
        return value

    # -- results --------------------------------------------------------------------------------------------
    def scores(self) -> ReviewScores:
        """The validated entries as :class:`ReviewScores` (``RuntimeError`` unless :meth:`validate` passed)."""
        if not self._valid:
            raise RuntimeError("scores() needs a form that passed validate()")
        entries: dict[str, ItemEntry] = {}
        for item, sub in self.item_forms():
            not_applicable = item.allows_na and bool(sub.na.data)
            value = self._points.get(item.code)
            points = None if not_applicable or value is None else _number(value)
            entries[item.code] = ItemEntry(
                code=item.code,
                level=None if not_applicable else ((sub.level.data or "").strip() or None),
                points=points,
                not_applicable=not_applicable,
                veto=item.veto and bool(sub.veto.data),
                comment=(sub.comment.data or "").strip(),
            )
        points_map = {code: e.points for code, e in entries.items() if e.filled or e.points is not None}
        vetoes = tuple(code for code, e in entries.items() if e.veto)
        return ReviewScores(mode=self.mode, entries=entries, points=points_map, vetoes=vetoes)

    # -- for the template and the browser script ----------------------------------------------------------
    def localize(self, text: Text | None) -> str:
        """A rubric text in the current language (for templates)."""
        return localized(text)

    @staticmethod
    def aria(field: Any, *described_by: str) -> dict[str, str]:
        """ARIA attributes of a field: ``aria-describedby`` (its hints and errors) and ``aria-invalid``."""
        ids = [*described_by, *([f"{field.id}-errors"] if field.errors else [])]
        attrs = {"aria-describedby": " ".join(ids)} if ids else {}
        if field.errors:
            attrs["aria-invalid"] = "true"
        return attrs

    def error_list(self) -> list[tuple[str | None, str]]:
        """Every error as (field id or ``None`` for the whole form, message), in the order of the form."""
        out: list[tuple[str | None, str]] = [(None, str(error)) for error in self.form_errors]
        for field in self:
            if isinstance(field, FormField):
                out += [(sub.id, str(error)) for sub in field.form for error in sub.errors]
            elif field.name != self.meta.csrf_field_name or field.errors:
                out += [(field.id, str(error)) for error in field.errors]
        return out

    def client_data(self) -> dict[str, Any]:
        """What ``rubric_form.js`` needs to show the running total and grade, in the current language."""
        return {
            **self.view().client_data,
            "messages": {
                "provisional": _("provisional: %(done)s of %(count)s items scored", done="{done}",
                                 count="{count}"),
                "vetoed": _("veto triggered: fail whatever the total"),
                "empty": "—",
            },
        }


@dataclass(frozen=True)
class LevelView:
    """A level as the form shows it: ``label`` "A 完全达到 (14–15)" and its descriptor, both escaped."""

    code: str
    label: Markup
    descriptor: Markup
    low: Number
    high: Number


@dataclass(frozen=True)
class ItemView:
    """An item's texts in one language, escaped, with the attributes of its points input."""

    code: str
    number: int
    label: Markup
    guide: Markup | None
    max_points: Number
    max_attr: str  # the points input's max, as people write it (8.5, never 8.50)
    veto: bool
    veto_label: Markup | None
    levels: tuple[LevelView, ...]


@dataclass(frozen=True)
class RubricView:
    """A rubric's texts in one language for :file:`forms/rubric_form.html`, built once per version.

    Rubric texts are data edited by organisers: they are escaped here, once, and the template inserts them
    as they are. Everything that depends on the request (the reviewer's entries, errors, the interface
    messages) stays in the form and the template.
    """

    title: Markup
    step_attr: str
    items: tuple[ItemView, ...]
    client_data: dict[str, Any]  # rubric_form.js's data without the interface messages


_VIEWS: dict[tuple[str, str], RubricView] = {}
_VIEWS_MAX = 256


def rubric_view(rubric: Rubric, language: str) -> RubricView:
    """The :class:`RubricView` of ``rubric`` in ``language`` ("zh" or "en").

    Cached by content hash and language: a content hash names one rubric content for ever (a revised or new
    version has another hash), so a cached view is never stale. The cache is emptied when it holds
    ``_VIEWS_MAX`` views (a handful of versions times two languages in practice).
    """
    key = (rubric.content_hash, language)
    view = _VIEWS.get(key)
    if view is None:
        view = _build_view(rubric, language)
        if len(_VIEWS) >= _VIEWS_MAX:
            _VIEWS.clear()
        _VIEWS[key] = view
    return view


def _build_view(rubric: Rubric, language: str) -> RubricView:
    def text(value: Text | None) -> Markup:
        return escape(value.get(language) if value is not None else "")

    items = []
    for number, item in enumerate(rubric.items, start=1):
        levels = tuple(LevelView(level.code, escape(f"{level.code} {level.name.get(language)} "
                                                    f"({_range(level.low, level.high)})"),
                                 text(level.text), level.low, level.high) for level in item.levels)
        veto_label = text(rubric.veto_ground(item.veto_ground).label) if item.veto_ground else None
        items.append(ItemView(item.code, number, text(item.label), text(item.guide) if item.guide else None,
                              item.max_points, _fmt(item.max_points), item.veto, veto_label, levels))
    client_data = {
        "step": rubric.points_step,
        "items": [{"code": item.code, "max": item.max_points, "na": item.allows_na, "veto": item.veto,
                   "levels": [{"code": lv.code, "low": lv.low, "high": lv.high} for lv in item.levels]}
                  for item in rubric.items],
        "bands": [{"grade": band.grade, "min": band.low, "max": band.high,
                   "label": GRADE_LABELS[band.grade].get(language)} for band in rubric.bands.bands],
    }
    return RubricView(text(rubric.title), _fmt(rubric.points_step), tuple(items), client_data)


def _range(low: Number, high: Number) -> str:
    return _fmt(low) if low == high else f"{_fmt(low)}–{_fmt(high)}"


def _number(value: Decimal) -> Number:
    return int(value) if value == value.to_integral_value() else float(value)


def _item_form(rubric: Rubric, item: Item) -> type[Form]:
    attrs: dict[str, Any] = {
        "level": RadioField(
            _l("Level"),
            choices=[SelectChoice(level.code,
                                  LocalizedText(level.name, f"{level.code} {{}} ({_range(level.low, level.high)})"))
                     for level in item.levels],
            validate_choice=False),
        "points": StringField(
            _l("Points"),
            widget=NumberInput(step=_fmt(rubric.points_step), min=0, max=_fmt(item.max_points)),
            render_kw={"inputmode": "decimal"}),
        "comment": TextAreaField(_l("Comment"), render_kw={"rows": 3, "maxlength": COMMENT_MAX_CHARS}),
    }
    if item.allows_na:
        attrs["na"] = BooleanField(_l("Not applicable"))
    if item.veto:
        attrs["veto"] = BooleanField(LocalizedText(rubric.veto_ground(item.veto_ground or "").label))
    return type(f"ItemForm_{item.code}", (Form,), attrs)


@lru_cache(maxsize=64)
def review_form_class(rubric: Rubric) -> type[ReviewForm]:
    """The review form class for ``rubric`` (one class per rubric version, cached).

    Parameters
    ----------
    rubric : Rubric
        The rubric version the review is made under.

    Returns
    -------
    type
        A subclass of :class:`ReviewForm` with one sub-form per item, named after the item code.
    """
    attrs: dict[str, Any] = {"rubric": rubric, "rubric_hash": HiddenField(default=rubric.content_hash)}
    for item in rubric.items:
        attrs[item.code] = FormField(_item_form(rubric, item), label=LocalizedText(item.label))
    return type(f"ReviewForm_{rubric.key}", (ReviewForm,), attrs)


def initial_data(entries: Iterable[ItemEntry]) -> dict[str, dict[str, Any]]:
    """Form data from saved entries (a draft being resumed): pass it as ``data=`` to the form class."""
    return {
        entry.code: {
            "level": entry.level,
            "points": "" if entry.points is None else _fmt(entry.points),
            "comment": entry.comment,
            "na": entry.not_applicable,
            "veto": entry.veto,
        }
        for entry in entries
    }
