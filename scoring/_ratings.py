"""Long-format container of ratings: (unit, rater, value) triples.

Every statistic in :mod:`scoring` works on this representation so that sparse designs (a case scored
by 2–3 reviewers out of thousands) never become a dense unit × rater matrix internally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Ratings", "as_ratings"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


def label_repr(x: Any) -> str:
    """repr of a label without numpy's scalar wrapper (``'a'``, not ``np.str_('a')``)."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def _labels_and_codes(labels: ArrayLike, what: str) -> tuple[NDArray[Any], IntArray]:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    try:
        uniq, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:  # mixed, unorderable label types
        raise ValueError(f"{what} labels must be mutually comparable (e.g. all str or all int): {exc}") from exc
    return uniq, codes.astype(np.int64).ravel()


@dataclass(frozen=True, eq=False)
class Ratings:
    """Ratings in long format: one (unit, rater, value) triple per rating.

    Build with :meth:`from_long` or :meth:`from_matrix`; do not call the constructor directly.

    Attributes
    ----------
    unit : ndarray of int64
        Code of the rated unit (case) of each rating, an index into ``unit_labels``.
    rater : ndarray of int64
        Code of the rater (reviewer) of each rating, an index into ``rater_labels``.
    value : ndarray of float64
        The ratings, all finite.
    unit_labels, rater_labels : ndarray
        The original labels, sorted.

    Examples
    --------
    >>> from scoring import Ratings
    >>> r = Ratings.from_long(["c1", "c1", "c2"], ["ann", "bob", "ann"], [80, 90, 70])
    >>> r.n_units, r.n_raters, len(r)
    (2, 2, 3)
    >>> r.to_matrix()
    array([[80., 90.],
           [70., nan]])
    """

    unit: IntArray
    rater: IntArray
    value: FloatArray
    unit_labels: NDArray[Any]
    rater_labels: NDArray[Any]

    @property
    def n_units(self) -> int:
        """Number of distinct units (including units without ratings when built from a matrix)."""
        return int(self.unit_labels.shape[0])

    @property
    def n_raters(self) -> int:
        """Number of distinct raters."""
        return int(self.rater_labels.shape[0])

    def __len__(self) -> int:
        return int(self.value.shape[0])

    def __repr__(self) -> str:
        return f"Ratings(n_ratings={len(self)}, n_units={self.n_units}, n_raters={self.n_raters})"

    @classmethod
    def from_long(cls, units: ArrayLike, raters: ArrayLike, values: ArrayLike) -> Ratings:
        """Build from three equal-length sequences (long format).

        Parameters
        ----------
        units, raters : array_like
            Labels of the rated unit and of the rater for each rating (any sortable type).
        values : array_like of float
            The ratings; every value must be finite. A rater may rate a unit only once.

        Returns
        -------
        Ratings

        Raises
        ------
        ValueError
            On unequal lengths, no ratings, a non-numeric or non-finite value (the row is named) or a
            repeated (unit, rater) pair (both rows are named).

        Examples
        --------
        >>> r = Ratings.from_long([1, 1, 2, 2], ["a", "b", "a", "c"], [3.0, 4.0, 2.0, 2.5])
        >>> r.rater_labels.tolist(), r.rater.tolist()
        (['a', 'b', 'c'], [0, 1, 0, 2])
        """
        try:
            val = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"values must be numeric: {exc}") from exc
        if val.ndim != 1:
            raise ValueError(f"values must be one-dimensional, got shape {val.shape}")
        n = val.shape[0]
        lengths = {"units": np.shape(units)[0] if np.ndim(units) else -1,
                   "raters": np.shape(raters)[0] if np.ndim(raters) else -1, "values": n}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"units, raters and values must have the same length, got {lengths}")
        if n == 0:
            raise ValueError("no ratings: units, raters and values are empty")
        bad = np.flatnonzero(~np.isfinite(val))
        if bad.size:
            raise ValueError(f"values must be finite: row {int(bad[0])} holds {val[bad[0]]!r} "
                             f"({bad.size} non-finite value(s) in all)")
        unit_labels, unit = _labels_and_codes(units, "units")
        rater_labels, rater = _labels_and_codes(raters, "raters")
        key = unit * np.int64(rater_labels.shape[0]) + rater
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1])
        if dup.size:
            first, second = int(order[dup[0]]), int(order[dup[0] + 1])
            raise ValueError(
                f"rater {label_repr(rater_labels[rater[second]])} rated unit {label_repr(unit_labels[unit[second]])} twice "
                f"(rows {first} and {second}); keep one rating per (unit, rater)")
        return cls(_readonly(unit), _readonly(rater), _readonly(val.copy()),
                   _readonly(unit_labels), _readonly(rater_labels))

    @classmethod
    def from_matrix(cls, matrix: ArrayLike, *, unit_labels: Sequence[Any] | None = None,
                    rater_labels: Sequence[Any] | None = None) -> Ratings:
        """Build from a units × raters matrix in which NaN marks a missing rating.

        Parameters
        ----------
        matrix : array_like, shape (n_units, n_raters)
            Rows are units (cases), columns are raters; NaN = not rated.
        unit_labels, rater_labels : sequence, optional
            Labels for rows and columns; default ``0..n-1``.

        Returns
        -------
        Ratings

        Raises
        ------
        ValueError
            If the matrix is not 2-D, holds an infinite value (row and column are named), or a rater
            column is all NaN, or it holds no rating at all.

        Examples
        --------
        >>> import numpy as np
        >>> r = Ratings.from_matrix([[1, 2], [3, np.nan]])
        >>> r.unit.tolist(), r.rater.tolist(), r.value.tolist()
        ([0, 0, 1], [0, 1, 0], [1.0, 2.0, 3.0])
        """
        try:
            m = np.asarray(matrix, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"matrix must be numeric (NaN for missing): {exc}") from exc
        if m.ndim != 2:
            raise ValueError(f"matrix must be 2-D (rows = units, columns = raters), got shape {m.shape}")
        inf = np.argwhere(np.isinf(m))
        if inf.size:
            i, j = (int(x) for x in inf[0])
            raise ValueError(f"matrix must hold finite values or NaN: row {i}, column {j} is {m[i, j]!r}")
        present = ~np.isnan(m)
        if not present.any():
            raise ValueError("no ratings: the matrix is empty or all NaN")
        empty_cols = np.flatnonzero(~present.any(axis=0))
        if empty_cols.size:
            raise ValueError(f"rater column {int(empty_cols[0])} is all NaN (a rater without ratings); "
                             f"drop it ({empty_cols.size} such column(s))")
        ul = np.arange(m.shape[0]) if unit_labels is None else np.asarray(unit_labels)
        rl = np.arange(m.shape[1]) if rater_labels is None else np.asarray(rater_labels)
        if ul.shape != (m.shape[0],) or rl.shape != (m.shape[1],):
            raise ValueError(f"label lengths {ul.shape}, {rl.shape} do not match matrix shape {m.shape}")
        if np.unique(ul).size != ul.size or np.unique(rl).size != rl.size:
            raise ValueError("unit_labels and rater_labels must be unique")
        iu, ir = np.nonzero(present)
        if unit_labels is not None or rater_labels is not None:
            return cls.from_long(ul[iu], rl[ir], m[iu, ir])
        return cls(_readonly(iu.astype(np.int64)), _readonly(ir.astype(np.int64)),
                   _readonly(m[iu, ir]), _readonly(ul), _readonly(rl))

    def to_matrix(self, *, max_cells: int = 50_000_000) -> FloatArray:
        """Return the dense units × raters matrix (NaN = not rated).

        A convenience for small inputs: statistics never call it.

        Parameters
        ----------
        max_cells : int, optional
            Refuse (ValueError) to build a matrix with more cells than this.

        Examples
        --------
        >>> Ratings.from_long(["u"], ["r"], [2.5]).to_matrix()
        array([[2.5]])
        """
        cells = self.n_units * self.n_raters
        if cells > max_cells:
            raise ValueError(f"a dense matrix would have {cells} cells (> max_cells={max_cells}); "
                             "work on the long format instead")
        out = np.full((self.n_units, self.n_raters), np.nan)
        out[self.unit, self.rater] = self.value
        return out


def as_ratings(data: Ratings | ArrayLike, *, name: str = "data") -> Ratings:
    """Accept a :class:`Ratings` or a 2-D units × raters array (NaN = missing)."""
    if isinstance(data, Ratings):
        return data
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a Ratings object or a 2-D units × raters array, "
                         f"got an array of shape {arr.shape}")
    return Ratings.from_matrix(arr)
