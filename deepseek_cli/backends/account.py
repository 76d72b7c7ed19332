"""Account queries that are not chat requests: DeepSeek's ``GET /user/balance``.

One small GET does not justify importing the openai SDK (about half a second), so this uses
the standard library. Redirects are not followed: a redirect to another host would carry the
``Authorization`` header with it. Failures become the same error classes, hints and exit
codes as a chat request (401 -> 77, 5xx/network -> 69) through ``backends.error_map``.

Amounts stay strings, as DeepSeek sends them: they are money, and ``"110.00"`` must not
come back as ``110.0`` or ``109.99999``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from deepseek_cli import __version__
from deepseek_cli.backends.error_map import map_error
from deepseek_cli.config.profiles import Profile, api_root
from deepseek_cli.errors import NetworkError, ServerError, TimeoutExpired, UsageError

# A balance or an error body is a few hundred bytes: read no more than this of either.
MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True)
class BalanceInfo:
    currency: str
    total: str
    granted: str
    topped_up: str


@dataclass(frozen=True)
class Balance:
    available: bool | None
    balances: tuple[BalanceInfo, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "balances": [
                {
                    "currency": b.currency,
                    "total": b.total,
                    "granted": b.granted,
                    "topped_up": b.topped_up,
                }
                for b in self.balances
            ],
        }


def no_balance_reason(profile: Profile) -> str | None:
    """Why this profile's provider cannot report a balance, or ``None`` when it can."""
    if profile.provider == "deepseek":
        return None
    if profile.provider == "dashscope":
        return "DashScope (Model Studio) has no balance API"
    return (
        f"profile '{profile.name}' is a generic OpenAI-compatible server, which has no balance API"
    )


def balance_url(base_url: str) -> str:
    return api_root(base_url) + "/user/balance"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch_balance(profile: Profile, api_key: str) -> Balance:
    if (reason := no_balance_reason(profile)) is not None:
        raise UsageError(reason)
    request = urllib.request.Request(
        balance_url(profile.base_url),
        headers={
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": f"deepseek-cli/{__version__}",
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    timeout = min(profile.timeouts.total, 30.0)
    try:
        with opener.open(request, timeout=timeout) as response:
            raw = response.read(MAX_BODY_BYTES)  # a balance is a few hundred bytes
    except urllib.error.HTTPError as exc:
        raise _http_error(profile, exc) from None
    except TimeoutError:
        raise TimeoutExpired(f"no answer from {profile.base_url} within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(why, TimeoutError):
            raise TimeoutExpired(
                f"no answer from {profile.base_url} within {timeout:g} s"
            ) from None
        raise NetworkError(f"cannot reach {profile.base_url}: {why}") from None
    return parse_balance(raw)


def _http_error(profile: Profile, exc: urllib.error.HTTPError) -> Exception:
    body = exc.read(MAX_BODY_BYTES)
    code = message = None
    try:
        data = json.loads(body)
        error = data.get("error", data) if isinstance(data, dict) else {}
        if isinstance(error, dict):
            message = error.get("message")
            code = error.get("code") or error.get("type")
    except ValueError:
        message = body.decode("utf-8", "replace")
    request_id = exc.headers.get("x-request-id") if exc.headers else None
    return map_error(
        provider=profile.provider,
        status=exc.code,
        code=str(code) if code is not None else None,
        message=message or exc.reason,
        request_id=request_id,
    )


def parse_balance(raw: bytes) -> Balance:
    try:
        data = json.loads(raw)
        infos = tuple(
            BalanceInfo(
                currency=str(item["currency"]),
                total=str(item.get("total_balance", "")),
                granted=str(item.get("granted_balance", "")),
                topped_up=str(item.get("topped_up_balance", "")),
            )
            for item in data.get("balance_infos") or []
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ServerError("the balance answer was not the expected JSON") from None
    available = data.get("is_available")
    return Balance(available if isinstance(available, bool) else None, infos)
