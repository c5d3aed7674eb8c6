"""Error taxonomy: transient failures are retried by the task layer, permanent ones need a human."""


class TradingStationError(Exception):
    """Base class for every error this package raises on purpose.

    The message is a single line meant for an operator; it never contains a secret.
    """


class TransientError(TradingStationError):
    """A failure that may succeed when retried (throttle, 5xx, timeout, connection reset)."""


class PermanentError(TradingStationError):
    """A failure that retrying cannot fix (bad key, premium-only endpoint, invalid symbol)."""


class InputError(PermanentError):
    """Bad user input: a malformed ticker, an impossible date, a parameter out of range."""


class ConfigError(PermanentError):
    """Missing or malformed configuration, blocks or credentials."""


class StorageError(TransientError):
    """The object store could not be reached or answered with a retryable error."""


class StorageRefusedError(PermanentError):
    """The object store refuses for good: a read-only filesystem, no permission.

    Retrying cannot help; a human must fix the mount or the rights.
    """


class ObjectNotFoundError(PermanentError):
    """A key that was expected to exist does not."""


class DataError(PermanentError):
    """Data failed validation (OHLC sanity, duplicates, schema, corrupt object)."""


class ThrottledError(TransientError):
    """The provider answered with a rate-limit message."""


class ProviderError(TransientError):
    """The provider failed in a way that may pass: 5xx, timeout, malformed body."""


class PremiumEndpointError(PermanentError):
    """The provider refused an endpoint or option that the plan does not include."""


class InvalidApiKeyError(PermanentError):
    """The provider rejected the API key."""


class SymbolNotFoundError(PermanentError):
    """The provider does not know the symbol."""
