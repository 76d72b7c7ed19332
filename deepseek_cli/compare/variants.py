"""A compare variant, ``[PROFILE:]MODEL[@think|@no-think|@effort=LEVEL|@budget=N]``, read.

A variant is the request flags of one ``batch run``: a profile (its endpoint, key and limits),
a model and the thinking settings. The prefix before the first ``:`` is a profile only when
one of that name exists, so a model named ``deepseek-r1:7b`` (Ollama) stays a model. Each
variant writes its own output file, named after it, so a re-run finds its answers again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from deepseek_cli.catalog.models import EFFORT_LEVELS
from deepseek_cli.config.settings import RequestFlags
from deepseek_cli.errors import UsageError

USAGE = "[PROFILE:]MODEL[@think|@no-think|@effort=LEVEL|@budget=N]"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@=+-]+")


@dataclass(frozen=True)
class VariantSpec:
    text: str  # as given, which is also its label in the report
    model: str
    profile: str | None = None
    thinking: bool | None = None
    effort: str | None = None
    budget: int | None = None

    def flags(self, base: RequestFlags) -> RequestFlags:
        """``base`` (the command's own request flags) with this variant's choices laid over."""
        return dataclasses.replace(
            base,
            profile=self.profile or base.profile,
            model=self.model,
            thinking=self.thinking if self.thinking is not None else base.thinking,
            reasoning_effort=self.effort or base.reasoning_effort,
            thinking_budget=self.budget or base.thinking_budget,
        )

    @property
    def slug(self) -> str:
        """A file name for this variant's answers: readable, and unique per label."""
        safe = _UNSAFE.sub("_", self.text.replace(":", "_")).strip("._") or "variant"
        if safe != self.text:
            safe += "-" + hashlib.sha256(self.text.encode()).hexdigest()[:6]
        return safe[:100]


def parse_variant(text: str, profiles: Collection[str]) -> VariantSpec:
    """The variant ``text`` names; ``UsageError`` (exit 2) saying what is wrong."""
    raw = text.strip()
    head, *options = raw.split("@")
    profile: str | None = None
    prefix, colon, rest = head.partition(":")
    if colon and prefix in profiles:
        profile, head = prefix, rest
    if not head:
        raise UsageError(f"-m {text!r}: no model", f"a variant is {USAGE}")
    spec = VariantSpec(raw, head, profile)
    for option in options:
        spec = _with_option(spec, option, text)
    return spec


def _with_option(spec: VariantSpec, option: str, text: str) -> VariantSpec:
    name, eq, value = option.partition("=")
    if option == "think":
        return dataclasses.replace(spec, thinking=True)
    if option == "no-think":
        return dataclasses.replace(spec, thinking=False)
    if name == "effort" and eq:
        if value not in EFFORT_LEVELS:
            raise UsageError(
                f"-m {text!r}: effort must be one of {', '.join(EFFORT_LEVELS)}",
                f"a variant is {USAGE}",
            )
        return dataclasses.replace(spec, effort=value)
    if name == "budget" and eq:
        if not value.isdigit() or int(value) < 1:
            raise UsageError(f"-m {text!r}: budget must be a whole number of tokens, at least 1")
        return dataclasses.replace(spec, budget=int(value), thinking=spec.thinking or True)
    raise UsageError(f"-m {text!r}: unknown option '@{option}'", f"a variant is {USAGE}")


def parse_variants(texts: Sequence[str], profiles: Collection[str]) -> list[VariantSpec]:
    """Every ``-m``; the same variant twice is a mistake (its answers would be one file)."""
    specs = [parse_variant(t, profiles) for t in texts]
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.slug in seen:
            raise UsageError(f"-m {spec.text!r} is given twice")
        seen[spec.slug] = spec.text
    return specs
