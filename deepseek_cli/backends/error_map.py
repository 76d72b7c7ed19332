"""One table from every provider error vocabulary to our error classes.

Three vocabularies meet here: DashScope native (CamelCase ``code``: ``InvalidApiKey``,
``Throttling.RateQuota``), DashScope compatible mode (snake_case ``error.code``:
``invalid_api_key``, ``limit_requests``, sometimes the native spelling), and DeepSeek, whose
``code`` is almost always ``invalid_request_error`` so only the HTTP status means anything.
Known codes decide first (the dashscope SDK reports every in-stream error as HTTP 400, so a
mid-stream ``InternalError`` must still be a retryable server error); the status decides the
rest.
"""

from __future__ import annotations

import re
import ssl
from urllib.parse import urlsplit

from deepseek_cli.errors import (
    ApiError,
    AuthError,
    InvalidRequestError,
    RateLimitError,
    ServerError,
    TlsError,
    TruncatedError,
)

_REGION_HINT = "DashScope keys only work in the region that issued them: check the profile's region"

# lower-cased code -> (class, hint)
_CODES: dict[str, tuple[type[ApiError], str | None]] = {
    "invalidapikey": (AuthError, _REGION_HINT),
    "invalid_api_key": (AuthError, _REGION_HINT),
    "arrearage": (
        AuthError,
        "the Alibaba Cloud account has an overdue payment; settle it in the console",
    ),
    "accessdenied": (
        AuthError,
        "this key or workspace may not use the model; enable it in Model Studio",
    ),
    "accessdenied.unpurchased": (AuthError, "the model is not purchased for this account"),
    "model.accessdenied": (
        AuthError,
        "this key or workspace may not use the model; enable it in Model Studio",
    ),
    "datainspectionfailed": (
        InvalidRequestError,
        "content inspection rejected the input or the output",
    ),
    "data_inspection_failed": (
        InvalidRequestError,
        "content inspection rejected the input or the output",
    ),
    "throttling": (RateLimitError, None),
    "throttling.ratequota": (RateLimitError, None),
    "throttling.allocationquota": (RateLimitError, None),
    "limit_requests": (RateLimitError, None),
    "limit_burst_rate": (RateLimitError, "DashScope limits how fast the request rate may grow"),
    "internalerror": (ServerError, None),
    "internal_error": (ServerError, None),
    "serviceunavailable": (ServerError, None),
    "gatewaytimeout": (ServerError, None),
    "invalidparameter": (InvalidRequestError, None),
    "invalid_parameter_error": (InvalidRequestError, None),
    "model_not_found": (InvalidRequestError, None),
}

_MODEL_HINT = (
    "check the model name with `deepseek models`; DeepSeek models on DashScope differ by region"
)
_RETIRED_HINT = (
    "deepseek-chat and deepseek-reasoner were retired on 2026-07-24; "
    "use deepseek-flash or deepseek-v4-pro (see `deepseek models`)"
)
_TAGS = re.compile(r"<[^>]+>")
_CONTEXT_HINT = (
    "the prompt is longer than the model's context: shorten it or send fewer files "
    "(in chat, /clear starts afresh)"
)
# How servers say "too long": llama.cpp's type, vLLM/DeepSeek/OpenAI's and DashScope's words.
_CONTEXT_WORDS = re.compile(
    r"exceed_context_size|context[ _]length|context size|context window|maximum context"
    r"|range of input length|too many tokens|prompt is too long",
    re.IGNORECASE,
)


def error_code(code: object, kind: object) -> str | None:
    """The provider's error code as text, or its ``type`` when the code says nothing.

    llama.cpp sends the HTTP status as an integer ``code``, LiteLLM as a string ("400"), and
    LiteLLM may send ``"None"``; the standard ``type`` (``exceed_context_size_error``,
    ``not_found_error``) then names the error."""
    for value in (code, kind):
        if isinstance(value, str) and value.strip() and value != "None" and not value.isdigit():
            return value.strip()
    return None


def wrong_path_hint(provider: str, base_url: str, *, native: bool = False) -> str:
    """What a base_url should look like, for a 404 that is about the address."""
    if native:
        return (
            "a native profile's base_url ends in /api/v1, e.g. "
            "https://dashscope-intl.aliyuncs.com/api/v1 (compatible mode: .../compatible-mode/v1)"
        )
    if provider == "dashscope":
        return "a compatible-mode profile's base_url ends in /compatible-mode/v1"
    if provider == "deepseek":
        return "DeepSeek's base_url is https://api.deepseek.com"
    parts = urlsplit(base_url)
    return (
        "check base_url: OpenAI-compatible servers serve their API under /v1 "
        f"(e.g. {parts.scheme}://{parts.netloc}/v1)"
    )


def clean_message(text: str, limit: int = 300) -> str:
    """Provider text as one short line: no HTML, no newlines, bounded length."""
    text = _TAGS.sub(" ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tls_failure(exc: BaseException, host: str) -> TlsError | None:
    """A TLS failure anywhere in the exception chain: fatal, since a retry cannot fix a
    certificate, and verification is never switched off to get around it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return TlsError(
                f"TLS with {host} failed ({seen.__class__.__name__}: {seen})",
                hint="if a proxy re-signs traffic, point SSL_CERT_FILE at its CA bundle",
            )
        seen = seen.__cause__ or seen.__context__
    return None


def cut_off(exc: BaseException, base_url: str, request_id: str | None) -> TruncatedError:
    """The error for a connection that broke after the server had started answering."""
    cause = exc.__cause__ or exc
    detail = str(cause) or type(cause).__name__
    return TruncatedError(
        f"the answer was cut off: {urlsplit(base_url).netloc} closed the connection "
        f"mid-stream ({detail})",
        request_id=request_id,
        hint="try again; the part shown is kept",
    )


def map_error(
    *,
    provider: str,
    status: int | None,
    code: str | None,
    message: str | None,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """Choose our error class, message and hint for one provider error."""
    text = clean_message(message or "") or "no message"
    cls: type[ApiError] | None = None
    hint: str | None = None
    known = _CODES.get((code or "").lower())
    if known is not None:
        cls, hint = known
        if (code or "").lower() == "throttling.allocationquota" and "free" in text.lower():
            cls, hint = AuthError, "the free quota is used up; enable paid usage in Model Studio"
    elif status is not None:
        if status in (401, 403):
            cls = AuthError
            hint = _REGION_HINT if provider == "dashscope" else f"check the {provider} API key"
        elif status == 402:
            cls, hint = AuthError, "insufficient balance: top up the account"
        elif status == 429:
            cls = RateLimitError
            if provider == "deepseek" and "concurrency" in text.lower():
                hint = "DeepSeek scales the concurrency limit with the account balance"
        elif status in (408, 409) or status >= 500:
            cls = ServerError
        elif 400 <= status < 500:
            cls = InvalidRequestError
    if cls is None:
        cls = ServerError
    if cls is InvalidRequestError and hint is None:
        lowered = text.lower()
        if _CONTEXT_WORDS.search(f"{code or ''} {text}"):
            hint = _CONTEXT_HINT
        elif "model not exist" in lowered or "does not exist" in lowered:
            hint = _MODEL_HINT if provider == "dashscope" else _RETIRED_HINT
        elif "non-streaming" in lowered or "stream mode" in lowered:
            hint = "this model needs streaming: drop --no-stream"
        elif "reasoning_content" in lowered:
            hint = "the provider wants earlier thinking sent back after tool calls"
    return cls(
        text,
        hint=hint,
        status=status,
        code=code,
        request_id=request_id,
        retry_after=retry_after,
    )
