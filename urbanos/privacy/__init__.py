"""Protect: privacy rules, retention, consent, impact assessments, the algorithm register and the audit trail."""
