"""Privacy rules: declared per dataset, applied by the gate on every read path."""
