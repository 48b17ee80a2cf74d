"""Demo data: deterministic generators of people, places and case files for a demo province."""
