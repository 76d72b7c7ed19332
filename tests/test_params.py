"""Per-provider request mapping and the notices for impossible settings."""

from __future__ import annotations

import pytest

from deepseek_cli.backends.params import plan_request
from deepseek_cli.catalog.models import load_catalog
from deepseek_cli.errors import UsageError
from deepseek_cli.events import ChatRequest, Message


def req(model="deepseek-v4-pro", **kw):
    return ChatRequest(model=model, messages=(Message("user", "hi"),), **kw)


def info(provider, model):
    return load_catalog().find(provider, model)


def test_dashscope_thinking_knobs():
    plan = plan_request(
        req(thinking=True, thinking_budget=4096, reasoning_effort="high"),
        "dashscope",
        info("dashscope", "deepseek-v4-pro"),
    )
    assert plan.params == {
        "enable_thinking": True,
        "thinking_budget": 4096,
        "reasoning_effort": "high",
    }
    assert plan.notices == []


def test_deepseek_thinking_knobs_and_no_budget():
    plan = plan_request(
        req(thinking=False, thinking_budget=10), "deepseek", info("deepseek", "deepseek-v4-pro")
    )
    assert plan.params == {"thinking": {"type": "disabled"}}
    assert any("no thinking budget" in n for n in plan.notices)
    plan = plan_request(
        req(thinking=True, reasoning_effort="max"), "deepseek", info("deepseek", "deepseek-v4-pro")
    )
    assert plan.params == {"thinking": {"type": "enabled"}, "reasoning_effort": "max"}


@pytest.mark.parametrize("thinking", [True, False])
def test_generic_openai_server_gets_effort_and_the_template_switch(thinking):
    plan = plan_request(req(model="x", thinking=thinking, reasoning_effort="low"), "openai", None)
    assert plan.params == {
        "reasoning_effort": "low",
        "chat_template_kwargs": {"enable_thinking": thinking},
    }
    assert plan.notices == []


def test_generic_openai_server_without_a_thinking_flag_gets_no_template_switch():
    assert plan_request(req(model="x"), "openai", None).params == {}


def test_effort_is_mapped_with_a_notice_on_dashscope_v4():
    for given, sent in [("low", "high"), ("medium", "high"), ("xhigh", "max")]:
        plan = plan_request(
            req(reasoning_effort=given), "dashscope", info("dashscope", "deepseek-v4-pro")
        )
        assert plan.params["reasoning_effort"] == sent
        assert f"'{given}' is sent as '{sent}'" in plan.notices[0]


def test_no_think_on_an_always_thinking_model_goes_out_without_it():
    plan = plan_request(
        req("deepseek-r1", thinking=False), "dashscope", info("dashscope", "deepseek-r1")
    )
    assert "enable_thinking" not in plan.params
    assert plan.notices == ["deepseek-r1 always thinks; --no-think ignored"]


def test_think_on_a_never_thinking_model_goes_out_without_it():
    plan = plan_request(
        req("deepseek-v3", thinking=True, thinking_budget=100),
        "dashscope",
        info("dashscope", "deepseek-v3"),
    )
    assert plan.params == {}
    assert "deepseek-v3 never thinks; --think ignored" in plan.notices
    assert any("--budget ignored" in n for n in plan.notices)


def test_budget_is_clamped_to_the_model_maximum():
    plan = plan_request(
        req("deepseek-v3.2", thinking=True, thinking_budget=100000),
        "dashscope",
        info("dashscope", "deepseek-v3.2"),
    )
    assert plan.params["thinking_budget"] == 32768
    assert "exceeds" in plan.notices[0]


def test_fixed_sampling_parameters_are_dropped():
    plan = plan_request(
        req("deepseek-r1", temperature=0.2, top_p=0.5),
        "dashscope",
        info("dashscope", "deepseek-r1"),
    )
    assert "temperature" not in plan.params and "top_p" not in plan.params
    assert len(plan.notices) == 2


def test_search_json_stop_and_extra():
    plan = plan_request(
        req(
            search=True, json_object=True, stop=("END",), extra={"top_k": 5, "enable_search": False}
        ),
        "dashscope",
        info("dashscope", "deepseek-v4-pro"),
    )
    # DashScope's DeepSeek models have no structured output: dropped with a notice.
    assert "response_format" not in plan.params
    assert plan.params["stop"] == ["END"]
    assert plan.params["top_k"] == 5
    assert plan.params["enable_search"] is False  # -x wins over mapped values
    plan = plan_request(
        req(json_object=True, search=True), "deepseek", info("deepseek", "deepseek-v4-pro")
    )
    assert plan.params == {"response_format": {"type": "json_object"}}
    assert any("--search ignored" in n for n in plan.notices)


def test_prefix_and_suffix_need_deepseek():
    prefixed = ChatRequest(
        "deepseek-v4-pro", (Message("user", "hi"), Message("assistant", "```", prefix=True))
    )
    with pytest.raises(UsageError, match="prefix"):
        plan_request(prefixed, "dashscope", None)
    with pytest.raises(UsageError, match="suffix"):
        plan_request(req(suffix="x"), "dashscope", None)
    assert plan_request(prefixed, "deepseek", None).params == {}
