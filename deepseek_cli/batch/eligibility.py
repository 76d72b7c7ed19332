"""Which profiles and models the providers' Batch services can run: refuse early, clearly.

Why before anything is uploaded: the Batch API accepts what it cannot run and fails later
(an invalid endpoint is a 200 at create time and a failed batch minutes afterwards), and a
refusal that names the way out is worth more than a provider's code an hour later. Facts
(PROVIDERS.md 6.3, dated late 2026; providers change these):

- DeepSeek's own API has no Batch service: run the job locally with ``batch run``.
- DashScope's Batch API is on the OpenAI-compatible host only (``/compatible-mode/v1``).
- In Singapore (intl) the Batch service serves Qwen models only; DeepSeek models run in
  Beijing (cn). Virginia (us) is not documented either way and is let through.
- An ``openai`` profile (any OpenAI-compatible server) is let through: the protocol is
  OpenAI's own, and the server decides.

- Beijing's Batch page lists deepseek-r1, deepseek-v3.2 and deepseek-v3 (the catalog's
  ``batch_regions``; v3.1 "Unsupported", v4 not listed): another DeepSeek model is warned
  about, not refused, since the list changes faster than this tool.

Also the Batch price: half the real-time price (DashScope documents 50 %).
"""

from __future__ import annotations

from deepseek_cli.catalog.models import load_catalog
from deepseek_cli.config.profiles import Profile
from deepseek_cli.errors import UsageError

BATCH_PRICE_FACTOR = 0.5
# DashScope's free closed-loop test model answers on its own endpoint.
TEST_MODEL = "batch-test-model"
TEST_ENDPOINT = "/v1/chat/ds-test"
CHAT_ENDPOINT = "/v1/chat/completions"


def endpoint_for(model: str) -> str:
    return TEST_ENDPOINT if model == TEST_MODEL else CHAT_ENDPOINT


def check_profile(profile: Profile) -> None:
    """Refuse (exit 2) a profile whose provider or API has no Batch service."""
    if profile.provider == "deepseek":
        raise UsageError(
            "DeepSeek's API has no Batch service",
            "run the same input here with `deepseek batch run INPUT` (same output files), "
            "or use a DashScope profile in Beijing (region cn) for the 50% Batch price",
        )
    if profile.provider == "dashscope" and profile.api == "native":
        region = profile.region or "intl"
        raise UsageError(
            f"profile '{profile.name}' uses DashScope's native API, but the Batch service is "
            "on the OpenAI-compatible host",
            f"use -p {region} (the compatible-mode profile for the same region), or set "
            f'api = "compatible" in [profiles.{profile.name}]',
        )


def check_model(profile: Profile, model: str) -> None:
    """Refuse (exit 2) a model the profile's region cannot run as a batch."""
    if profile.provider != "dashscope" or profile.region != "intl":
        return
    if model.startswith("qwen") or model == TEST_MODEL:
        return
    raise UsageError(
        f"{model} cannot run on DashScope's Batch service in Singapore (intl): it serves "
        "Qwen models only",
        'DeepSeek models run as batches in Beijing: use a profile with region = "cn" (e.g. '
        "-p cn) and a key from the Beijing region",
    )


def unlisted_warning(profile: Profile, model: str) -> str | None:
    """A warning for a DeepSeek model that Beijing's Batch page does not list."""
    if profile.provider != "dashscope" or profile.region != "cn" or model == TEST_MODEL:
        return None
    catalog = load_catalog()
    listed = [m.id for m in catalog.for_provider("dashscope") if "cn" in m.batch_regions]
    info = catalog.find("dashscope", model)
    if not model.startswith("deepseek") or (info is not None and "cn" in info.batch_regions):
        return None
    return (
        f"{model} is not on DashScope's Beijing Batch list ({', '.join(listed)}): the "
        "provider may fail the batch; `deepseek batch run` runs it here at the real-time price"
    )
