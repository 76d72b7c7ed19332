"""The provider's own model list (``models --live``, ``config doctor``).

The only path of ``models`` that imports an SDK. DashScope's native API has no list, but the
same host serves compatible mode with the same key, so a native profile asks there.
"""

from __future__ import annotations

import dataclasses

from deepseek_cli.config.profiles import Profile


def listing_profile(profile: Profile) -> Profile | None:
    """The profile to ask for a model list. DashScope's native API has no list, but the same
    host serves compatible mode with the same key, so a native profile asks there."""
    if profile.api != "native":
        return profile
    base = profile.base_url.rstrip("/")
    if not base.endswith("/api/v1"):
        return None
    compat = base[: -len("/api/v1")] + "/compatible-mode/v1"
    return dataclasses.replace(profile, api="compatible", base_url=compat)


def fetch_live_ids(profile: Profile, api_key: str | None) -> list[str]:
    """The provider's model list for this key (imports the profile's SDK: ``--live`` only)."""
    import asyncio

    from deepseek_cli.backends import make_backend
    from deepseek_cli.errors import UsageError

    target = listing_profile(profile)
    if target is None:
        raise UsageError(
            f"profile '{profile.name}' uses the DashScope native API, which has no model list",
            "use the compatible-mode profile of the same region (e.g. intl instead of intl-native)",
        )

    async def run() -> list[str]:
        backend = make_backend(target, api_key)
        try:
            return await backend.list_models()
        finally:
            await backend.aclose()

    return asyncio.run(run())
