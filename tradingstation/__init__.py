"""TradingStation: US-equities screening and trade planning (domain core, Prefect-free)."""

__version__ = "0.1.0"
