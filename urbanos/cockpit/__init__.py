"""The cockpit: usage of every dataset and API, live dashboards and alerts."""
