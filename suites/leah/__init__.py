"""Leah conformance checks."""
