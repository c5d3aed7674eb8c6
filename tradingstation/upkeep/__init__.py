"""Upkeep of the data store.

Backup/restore, integrity verification, gaps, cleanup, rebuild, health, triage, and when each
operation may run.
"""
