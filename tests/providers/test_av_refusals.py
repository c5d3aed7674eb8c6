"""Alpha Vantage refusing a request is permanent (issue 16 #6).

Measured on a real server: an ``Error Message`` answer for an invalid key was classed
``TransientError`` and the task retried 3 times (85 s) before failing. The bodies below are the
exact answers Alpha Vantage gives (HTTP 200 each).
"""

from __future__ import annotations

import pytest

from tests.support import fake_av_data
from tests.support.fake_alphavantage import FakeAlphaVantage
from tradingstation.errors import InvalidApiKeyError, PermanentError, TransientError
from tradingstation.providers import avformat
from tradingstation.providers.alphavantage import AlphaVantageProvider
from tradingstation.providers.ratelimit import RateLimiter

KEY = "AVKEY-REFUSALS-01"
INVALID_CALL_LISTING = {"Error Message": "Invalid API call. Please retry or visit the "
                        "documentation (https://www.alphavantage.co/documentation/) for "
                        "LISTING_STATUS."}
INVALID_KEY = {"Error Message": "the parameter apikey is invalid or missing. Please claim your "
               "free API key on (https://www.alphavantage.co/support/#api-key). It should take "
               "less than 20 seconds."}
INVALID_KEY_SHORT = {"Error Message": "Invalid API key. Please claim your free API key on "
                     "(https://www.alphavantage.co/support/#api-key)."}


@pytest.mark.parametrize(("body", "symbol_scoped"), [
    (INVALID_CALL_LISTING, False), (INVALID_KEY, False), (INVALID_KEY, True),
    (INVALID_KEY_SHORT, False), (INVALID_KEY_SHORT, True),
], ids=["invalid-call-listing", "apikey-invalid", "apikey-invalid-symbol", "invalid-api-key",
        "invalid-api-key-symbol"])
def test_error_message_without_data_is_permanent(body: dict, symbol_scoped: bool) -> None:
    # With a symbol, "Invalid API call" means that symbol (next test); without one, the key.
    error = avformat.classify_message(body, "LISTING_STATUS", KEY, symbol_scoped)
    assert isinstance(error, InvalidApiKeyError) and not isinstance(error, TransientError)
    assert "API key" in str(error) and KEY not in str(error)


def test_invalid_call_for_a_symbol_is_that_symbol_and_permanent() -> None:
    error = avformat.classify_message(fake_av_data.invalid_call("TIME_SERIES_DAILY"),
                                      "TIME_SERIES_DAILY ZZZZ", KEY, True)
    assert isinstance(error, PermanentError) and not isinstance(error, InvalidApiKeyError)


def test_refused_listing_fails_at_once_with_a_clear_message() -> None:
    with FakeAlphaVantage(api_key=KEY) as fake:
        fake.fail_next("error_message", n=5, function="LISTING_STATUS")
        provider = AlphaVantageProvider(KEY, fake.url, RateLimiter(per_minute=600), timeout=5)
        with pytest.raises(PermanentError) as caught:
            provider.listing()
        assert fake.count("LISTING_STATUS") == 1  # one request, no retry inside the provider
    message = str(caught.value)
    assert not isinstance(caught.value, TransientError)
    assert "LISTING_STATUS" in message and "TS_ALPHAVANTAGE_API_KEY" in message
    assert "\n" not in message and KEY not in message
