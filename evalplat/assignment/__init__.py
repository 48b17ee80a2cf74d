"""Optimal, conflict-free assignment of reviewers to cases (pure; no Flask, no database).

>>> from evalplat.assignment import Case, Reviewer, Rules, assign
"""

from evalplat.assignment.model import Case, InfeasibleAssignment, Problem, Reviewer, Rules, Solution
from evalplat.assignment.solver import assign, reassign, solve

__all__ = ["Case", "InfeasibleAssignment", "Problem", "Reviewer", "Rules", "Solution", "assign", "reassign", "solve"]
