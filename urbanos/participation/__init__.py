"""Participation: residents' reports, contributions on planning projects and participatory budgets."""
