"""Follow-up visits to clients (回访): per agency a plan drawn reproducibly from its closed cases, a call list for
its staff, every call attempt, the questionnaire of a completed visit, and complaints the organiser sees at once
when a client reports a fee, a gift or an absence."""
