"""The cockpit's dashboards."""
