"""Sensing tests share the conformance fixtures."""

from tests.conformance.conftest import sta  # noqa: F401
