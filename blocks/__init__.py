"""Prefect block documents: Spaces storage, the Alpha Vantage key, the alert webhook."""
