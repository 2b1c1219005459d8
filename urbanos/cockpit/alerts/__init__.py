"""The cockpit's alerts."""
