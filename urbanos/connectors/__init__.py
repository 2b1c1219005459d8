"""Delivery systems: connectors that pull and receive city data, scheduled and observable."""
