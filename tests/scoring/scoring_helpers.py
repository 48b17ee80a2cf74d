"""Helpers shared by the scoring tests (readers for the published vectors, random sparse designs)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def read_matrix(path: Path) -> np.ndarray:
    """Numeric body of a CSV whose first column is a row label; blank cells become NaN."""
    _, rows = read_csv(path)
    return np.array([[float(x) if x.strip() else np.nan for x in r[1:]] for r in rows])


def table_to_pairs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand a k × k contingency table (rows = rater A) into paired category codes."""
    i, j = np.nonzero(table)
    counts = table[i, j].astype(int)
    return np.repeat(i, counts), np.repeat(j, counts)


def sparse_ratings(rng: np.random.Generator, n_units: int, n_raters: int, per_unit: tuple[int, ...],
                   values: str = "int") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random sparse long-format design: each unit rated by a random subset of raters."""
    units, raters, vals = [], [], []
    quality = rng.normal(0, 1, n_units)
    for u in range(n_units):
        m = int(rng.choice(per_unit))
        rs = rng.choice(n_raters, size=m, replace=False)
        units += [u] * m
        raters += rs.tolist()
        noisy = quality[u] + rng.normal(0, 0.8, m)
        vals += (np.clip(np.round(noisy * 1.2 + 3), 0, 6) if values == "int" else np.exp(noisy)).tolist()
    return np.array(units), np.array(raters), np.array(vals, dtype=float)
