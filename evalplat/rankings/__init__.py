"""Rankings of lawyers, agencies and cities, the expert-pool list, assignment priorities and report data."""
