"""Scenario tests of the screeners."""
