"""Secret redaction: the one mask and every function that applies it.

Whatever path a text takes out of the process (a log line, an exception message, a ledger
reason, CLI output, a provider error), a secret in it becomes :data:`REDACTED`. Two kinds of
secret are masked:

* values: the configured secrets (API key, S3 keys, webhook URL) registered with
  :func:`add_secrets` when settings or Prefect blocks are loaded, plus any a caller passes for
  one text (:func:`redact_values`, :func:`one_line`);
* shapes: credential-looking URL/form parameters (``apikey=...``, ``X-Amz-Signature=...``) and
  Alpha Vantage's echo of the key in its prose (``API key as ...``), masked even when the value
  was never registered.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "**********"
# Secrets shorter than this are never masked (settings refuse them): a one-letter "secret"
# replaced everywhere would mangle every word that contains it. Real keys are far longer
# (Alpha Vantage 16 characters, S3 access key ids 16-128, secret keys 40).
MIN_SECRET_LENGTH = 6

# Query/form parameters whose values are credentials wherever they appear (URLs, bodies).
_PARAM_RE = re.compile(
    r"(?i)\b(apikey|api_key|api-key|access_token|token|secret|password|passwd"
    r"|x-amz-signature|x-amz-credential|x-amz-security-token|awsaccesskeyid|signature)"
    r"(=|%3D)([^&\s'\"<>,;]+)"
)
# Alpha Vantage quotes the key back in its throttle prose ("We have detected your API key as X").
_KEY_ECHO_RE = re.compile(r"(?i)(API key as )\S+?(?=[\s,.;]|$)")


def whole_value_pattern(value: str) -> str:
    """A regex matching ``value`` only as a whole token, never inside a longer word.

    A secret that happens to be a fragment of ordinary text (``a`` in ``failed``) must not
    mangle it; where the value starts or ends with a letter or digit, the neighbouring
    character must not be one.
    """
    pattern = re.escape(value)
    if value[:1].isalnum():
        pattern = r"(?<![A-Za-z0-9])" + pattern
    if value[-1:].isalnum():
        pattern += r"(?![A-Za-z0-9])"
    return pattern


def redact_values(text: str, values: Iterable[str | None]) -> str:
    """``text`` with each of ``values`` replaced by :data:`REDACTED` where it appears whole.

    For one known secret in a message being built (a provider error, a ledger reason), on top
    of what :func:`redact` masks process-wide. ``None`` and values shorter than
    :data:`MIN_SECRET_LENGTH` are ignored.
    """
    for value in sorted((v for v in values if v and len(v) >= MIN_SECRET_LENGTH), key=len,
                        reverse=True):
        text = re.sub(whole_value_pattern(value), REDACTED, text)
    return text


def _mask_shapes(text: str) -> str:
    text = _KEY_ECHO_RE.sub(lambda m: m.group(1) + REDACTED, text)
    return _PARAM_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


class _Redactor:
    """The process-wide set of secret values, compiled into one pattern."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: Iterable[str | None]) -> None:
        with self._lock:
            for value in values:
                if not value or len(str(value).strip()) < MIN_SECRET_LENGTH:
                    continue
                value = str(value)
                # A secret may show up URL-encoded (in a logged request URL) as well as raw.
                self._secrets.update({value, quote(value, safe=""), quote_plus(value)})
            if self._secrets:
                # Longest first so a secret that contains another is replaced whole.
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(whole_value_pattern(s) for s in ordered))

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _mask_shapes(text)


_redactor = _Redactor()


def redact(text: object) -> str:
    """Return ``str(text)`` with every known secret and credential-shaped value masked."""
    return _redactor(str(text))


def add_secrets(values: Iterable[str | None]) -> None:
    """Add secret values to redact from now on (e.g. after loading a Prefect Secret block).

    Each is masked where it appears as a whole value (see :func:`whole_value_pattern`).
    ``None`` and values shorter than :data:`MIN_SECRET_LENGTH` are ignored.
    """
    _redactor.add(values)


def clear_secrets() -> None:
    """Forget every secret value added so far (tests; a process never needs it)."""
    _redactor.clear()


def one_line(
    text: object, secrets: Iterable[str | None] = (), max_length: int | None = None
) -> str:
    """``text`` as a single redacted line: for error lines, reasons and messages.

    Args:
        text: Any object; its ``str`` is used.
        secrets: Secret values to mask besides those known process-wide.
        max_length: Longer lines are cut to this length, ending in ``...``.

    Returns:
        The text with whitespace runs (newlines included) made one space, secrets masked.
    """
    line = redact(redact_values(" ".join(str(text).split()), secrets))
    if max_length is None or len(line) <= max_length:
        return line
    return line[: max_length - 3] + "..."
