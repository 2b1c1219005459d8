"""Participation: Open311 GeoReport v2 service requests with a staff workflow (``open311/``); participatory budgets
(``budget/``) are wired in beside it."""
