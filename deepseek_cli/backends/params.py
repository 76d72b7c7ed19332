"""Maps one provider-neutral request to the knobs a given provider understands.

The providers disagree: DashScope takes ``enable_thinking``/``thinking_budget``/
``reasoning_effort``/``enable_search``; DeepSeek takes ``thinking: {"type": ...}`` and
``reasoning_effort`` and has no budget or search; a generic OpenAI-compatible server gets
``reasoning_effort`` only. A setting the model cannot honour is dropped (or clamped to the
model's limit) with a one-line notice, so the request still goes out and the user knows why.
Pure functions: no SDK, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepseek_cli.catalog.models import ModelInfo
from deepseek_cli.errors import UsageError
from deepseek_cli.events import ChatRequest

EFFORT_LEVELS = ("minimal", "low", "medium", "high", "xhigh", "max", "ultra")


@dataclass
class Plan:
    """Provider-specific options (everything except model, messages and stream) and notices."""

    params: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def _effective_thinking(request: ChatRequest, info: ModelInfo | None, plan: Plan) -> bool | None:
    """What the model will actually do; ``None`` when we cannot know (unknown model)."""
    if info is None:
        return request.thinking
    if request.thinking is True and info.thinking == "never":
        plan.notices.append(f"{info.id} never thinks; --think ignored")
        return False
    if request.thinking is False and info.thinking == "always":
        plan.notices.append(f"{info.id} always thinks; --no-think ignored")
        return True
    if request.thinking is None:
        return info.thinks_by_default
    return request.thinking


def _effort(request: ChatRequest, info: ModelInfo | None, provider: str, plan: Plan) -> str | None:
    effort = request.reasoning_effort
    if effort is None or info is None or provider == "openai":
        return effort
    if not info.effort_values:
        plan.notices.append(f"{info.id} has no reasoning effort setting; --effort ignored")
        return None
    if effort in info.effort_values:
        return effort
    mapped = info.effort_map.get(effort)
    if mapped is None:
        plan.notices.append(
            f"{info.id} accepts effort {'/'.join(info.effort_values)}; '{effort}' ignored"
        )
        return None
    plan.notices.append(f"effort '{effort}' is sent as '{mapped}' (as the provider documents)")
    return mapped


def _clamp(value: int | None, limit: int | None, what: str, model: str, plan: Plan) -> int | None:
    if value is not None and limit is not None and value > limit:
        plan.notices.append(f"{what} {value} exceeds {model}'s maximum {limit}; sending {limit}")
        return limit
    return value


def plan_request(request: ChatRequest, provider: str, info: ModelInfo | None) -> Plan:
    """Build the provider's option set for ``request`` on a model described by ``info``."""
    plan = Plan()
    params = plan.params
    fim = request.suffix is not None
    has_prefix = bool(request.messages) and request.messages[-1].prefix
    if (fim or has_prefix) and provider != "deepseek" and not (fim and provider == "openai"):
        flag = "--suffix (FIM completion)" if fim else "--prefix (chat prefix completion)"
        raise UsageError(f"{flag} needs the DeepSeek API", "use -p deepseek")

    thinking = None if fim else _effective_thinking(request, info, plan)
    if fim and request.thinking:
        plan.notices.append("FIM completion never thinks; --think ignored")

    if not fim and request.thinking is not None and thinking == request.thinking:
        if provider == "dashscope":
            params["enable_thinking"] = thinking
        elif provider == "deepseek":
            params["thinking"] = {"type": "enabled" if thinking else "disabled"}
        else:
            # No standard field; llama.cpp honours this one and vLLM and SGLang document it
            # (a chat template that ignores it changes nothing).
            params["chat_template_kwargs"] = {"enable_thinking": thinking}

    budget = request.thinking_budget
    if budget is not None:
        model_id = info.id if info else request.model
        if provider != "dashscope":
            who = "DeepSeek" if provider == "deepseek" else "this server"
            plan.notices.append(f"{who} has no thinking budget; --budget ignored")
        elif thinking is False:
            plan.notices.append(f"thinking is off for {model_id}; --budget ignored")
        else:
            params["thinking_budget"] = _clamp(
                budget, info.max_thinking if info else None, "thinking budget", model_id, plan
            )

    effort = None if fim else _effort(request, info, provider, plan)
    if effort is not None:
        if thinking is False and provider != "openai":
            plan.notices.append("thinking is off; --effort ignored")
        else:
            params["reasoning_effort"] = effort

    if request.search:
        if provider != "dashscope":
            plan.notices.append("web search is a DashScope feature; --search ignored")
        elif info is not None and not info.has_feature("web-search"):
            plan.notices.append(f"{info.id} has no web search; --search ignored")
        else:
            params["enable_search"] = True

    if request.json_object:
        if info is not None and provider == "dashscope" and not info.has_feature("json-output"):
            plan.notices.append(f"{info.id} has no structured (JSON) output; --json-object ignored")
        else:
            params["response_format"] = {"type": "json_object"}

    for name in ("temperature", "top_p"):
        value = getattr(request, name)
        if value is None:
            continue
        if info is not None and info.fixed_params:
            plan.notices.append(f"{info.id} does not accept {name}; ignored")
        else:
            params[name] = value

    if request.max_tokens is not None:
        model_id = info.id if info else request.model
        limit = None if info is None else info.max_output
        params["max_tokens"] = _clamp(request.max_tokens, limit, "max tokens", model_id, plan)
    if request.stop:
        params["stop"] = list(request.stop)
    # Raw fields from the profile's extra_body and -x win over everything mapped above; the
    # template arguments are merged, so -x can add one without dropping enable_thinking.
    extra = dict(request.extra)
    mine, theirs = params.get("chat_template_kwargs"), extra.get("chat_template_kwargs")
    if isinstance(mine, dict) and isinstance(theirs, dict):
        extra["chat_template_kwargs"] = {**mine, **theirs}
    params.update(extra)
    return plan
