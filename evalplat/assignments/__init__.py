"""The assignments domain: who reviews which sampled case, in which round, and why not (conflicts)."""
