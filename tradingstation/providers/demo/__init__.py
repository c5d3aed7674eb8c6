"""The built-in demo market: a deterministic, seeded provider used when no API key is set.

``market`` is the provider (:class:`~tradingstation.providers.demo.market.DemoMarket`);
``universe`` its listings and per-symbol profiles, ``series`` the daily and minute price paths,
``plants`` and ``intraday_plants`` the setups planted so every screener has something to find.
"""
