"""Market data providers: the MarketDataProvider interface, Alpha Vantage and the demo market."""
