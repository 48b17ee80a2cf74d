"""Rankings, expert pool and reports at every level of the jurisdiction tree, and the national overview."""
