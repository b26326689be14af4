"""Thin adapters between runhistory's public ``Run`` API and other tools."""
