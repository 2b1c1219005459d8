"""Retention periods per dataset, Datastream or collection, the purge that applies them and its deletion records."""
