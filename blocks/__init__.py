"""Prefect block documents (Spaces storage, the Alpha Vantage key, the alert webhook).

Their registration, and the store/provider a run resolves from them (with the shared rate limit).
"""
