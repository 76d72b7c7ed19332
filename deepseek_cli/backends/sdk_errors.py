"""The openai SDK's exceptions as our error classes, for chat calls and the Batch API alike.

Why a module of its own: the SDK's exception tree (a timeout is a connection error, a status
error carries the body's ``error`` object) is read in one place, and the hints that depend on
how the profile was set up (a keyless profile at a keyed server, a base_url without ``/v1``)
are given here, where the profile and the URL are known.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from deepseek_cli.backends.backoff import parse_retry_after
from deepseek_cli.backends.error_map import error_code, map_error, tls_failure, wrong_path_hint
from deepseek_cli.config.profiles import Profile
from deepseek_cli.errors import ApiError, NetworkError, TimeoutExpired


def keyless_hint(profile: Profile) -> str:
    """A profile that sent no key met a server that wants one: say which setting gives it."""
    if profile.api_key_env:
        return f"profile '{profile.name}' sent no key: {profile.api_key_env} is not set"
    return (
        f"this server wants an API key and profile '{profile.name}' has none: set "
        f'api_key_env = "VAR" (or api_key_cmd) in [profiles.{profile.name}]'
    )


def map_sdk_error(openai: Any, exc: Exception, provider: str, base_url: str) -> ApiError:
    """Our error class for an openai SDK exception (also used by ``backends.batch_api``)."""
    host = urlsplit(base_url).netloc
    if isinstance(exc, openai.APITimeoutError):
        return TimeoutExpired(
            f"no response from {host} within the time limit",
            hint="raise --timeout or check the network",
        )
    if isinstance(exc, openai.APIConnectionError):
        if (tls := tls_failure(exc, host)) is not None:
            return tls
        cause = exc.__cause__
        detail = f"{type(cause).__name__}: {cause}" if cause else str(exc)
        return NetworkError(
            f"cannot reach {host} ({detail})", hint="check the base URL and network"
        )
    if isinstance(exc, openai.APIStatusError):
        body = exc.body
        code = message = None
        if isinstance(body, dict):
            code = error_code(body.get("code"), body.get("type"))
            message = body.get("message")
        elif isinstance(body, str):
            message = body
        request_id = exc.request_id
        if request_id is None:
            with contextlib.suppress(Exception):
                request_id = exc.response.json().get("request_id")
        error = map_error(
            provider=provider,
            status=exc.status_code,
            code=code,
            message=message or exc.message,
            request_id=request_id,
            retry_after=parse_retry_after(exc.response.headers),
        )
        if exc.status_code == 404 and error.hint is None:
            # Nothing about a model: the address itself is wrong (most often a base_url
            # without the /v1 that OpenAI-compatible servers put their API under).
            error.message = f"no API at {exc.request.url}: {error.message}"
            error.hint = wrong_path_hint(provider, base_url)
        return error
    if isinstance(exc, openai.APIError):
        body = exc.body if isinstance(exc.body, dict) else {}
        return map_error(
            provider=provider,
            status=None,
            code=error_code(body.get("code"), body.get("type")),
            message=exc.message,
        )
    return NetworkError(str(exc))
