"""Closing review (结案审查) in two levels (档案二级审查): a checklist of closing-file materials per case type
and stage; agency staff check first, a different person (the agency's second-level checker or the bureau)
confirms or returns the file; a case is closed only when both levels pass."""
