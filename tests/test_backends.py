"""Both adapters against real wire bytes: event order, usage placement, errors, deadlines.

The real SDKs parse bytes from the local server; nothing of ours is patched.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from batch_helpers import wait_for
from fakeserver import (
    FIXTURES,
    FakeServer,
    Reply,
    fim_completion,
    http_fixture,
    json_reply,
    native_stream,
    openai_stream,
    self_signed_context,
    sse_fixture,
    sse_reply,
)

from deepseek_cli.backends import make_backend
from deepseek_cli.backends.deadlines import attempt_stream
from deepseek_cli.config.profiles import resolve_profile
from deepseek_cli.errors import (
    AuthError,
    ExitCode,
    InvalidRequestError,
    NetworkError,
    RateLimitError,
    ServerError,
    TimeoutExpired,
    TruncatedError,
)
from deepseek_cli.events import AnswerDelta, ChatRequest, Message, ThinkingDelta, Usage


def profile_for(server: FakeServer, kind: str, **timeouts: float):
    tables = {
        "deepseek": {"provider": "deepseek", "base_url": server.url},
        "compat": {"provider": "dashscope", "base_url": server.url + "/compatible-mode/v1"},
        "native": {"provider": "dashscope", "api": "native", "base_url": server.url + "/api/v1"},
    }
    table = {
        **tables[kind],
        **{f"{k}_timeout" if k != "total" else "timeout": v for k, v in timeouts.items()},
    }
    return resolve_profile({"profiles": {"p": table}}, {}, profile="p")


def collect(server, kind, request=None, params=None, **timeouts):
    profile = profile_for(server, kind, **timeouts)
    request = request or ChatRequest("deepseek-v4-pro", (Message("user", "hi"),))

    async def go():
        backend = make_backend(profile, "sk-test-0000000000000000")
        try:
            return [
                e async for e in attempt_stream(backend, request, params or {}, profile.timeouts)
            ]
        finally:
            await backend.aclose()

    return asyncio.run(go())


def check_order(events):
    kinds = [type(e).__name__ for e in events]
    assert kinds[-1] == "Finished" and kinds.count("Finished") == 1
    assert kinds.count("Usage") <= 1
    if "Usage" in kinds:
        assert kinds.index("Usage") == len(kinds) - 2
    return (
        "".join(e.text for e in events if isinstance(e, ThinkingDelta)),
        "".join(e.text for e in events if isinstance(e, AnswerDelta)),
        next((e for e in events if isinstance(e, Usage)), None),
        events[-1],
    )


def test_dashscope_usage_in_separate_empty_choices_chunk(server):
    server.enqueue(sse_fixture("openai_compat/dashscope_thinking_stream_with_usage.sse"))
    thinking, answer, usage, fin = check_order(collect(server, "compat"))
    assert thinking and answer
    assert usage is not None and usage.reasoning_tokens > 0
    assert fin.finish_reason == "stop"


def test_dashscope_stream_without_usage(server):
    server.enqueue(sse_fixture("openai_compat/dashscope_nonthinking_stream_no_usage.sse"))
    thinking, answer, usage, _ = check_order(collect(server, "compat"))
    assert thinking == "" and answer and usage is None


def test_deepseek_usage_on_the_finish_chunk_and_keepalives_ignored(server):
    server.enqueue(sse_fixture("openai_compat/deepseek_thinking_stream_keepalive.sse"))
    thinking, answer, usage, fin = check_order(collect(server, "deepseek"))
    assert thinking == "We need to count from 1 to 10."
    assert answer == "1, 2, 3, …, 10"
    assert usage == Usage(91, 0, 121, 101, 212)
    assert fin.request_id == "237a4abb-5467-4b7b-92ad-706998efe47a"


def test_deepseek_include_usage_stream(server):
    server.enqueue(sse_fixture("openai_compat/deepseek_nonthinking_stream_include_usage.sse"))
    _, answer, usage, _ = check_order(collect(server, "deepseek"))
    assert answer == "Hello there!" and usage.input_tokens == 11


def test_reasoning_field_from_vllm_and_ollama(server):
    chunk = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"reasoning": "think"}, "finish_reason": None}],
    }
    end = {**chunk, "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}
    server.enqueue(
        sse_reply(
            [f"data: {json.dumps(chunk)}\n\n", f"data: {json.dumps(end)}\n\n", "data: [DONE]\n\n"]
        )
    )
    thinking, answer, _, _ = check_order(collect(server, "deepseek"))
    assert (thinking, answer) == ("think", "ok")


def test_native_incremental_stream_with_cumulative_usage(server):
    server.enqueue(sse_fixture("native/dashscope_native_thinking_incremental.sse"))
    thinking, answer, usage, fin = check_order(collect(server, "native"))
    assert thinking == "Hmm, the user asks who I am."
    assert answer == "Hello! I am DeepSeek."
    assert usage == Usage(11, 0, 8, 4, 19)
    assert fin.request_id == "25d58c29-c47b-9e8d-a0f1-d6c309ec58b1"
    body = server.requests[-1].json
    assert body["parameters"]["incremental_output"] is True
    assert body["parameters"]["result_format"] == "message"
    assert server.requests[-1].headers["x-dashscope-sse"] == "enable"


@pytest.mark.parametrize(
    "kind,reply",
    [
        (
            "compat",
            lambda: json_reply(
                json.loads(
                    (FIXTURES / "openai_compat/dashscope_nonstream_thinking.json").read_text()
                )
            ),
        ),
        (
            "deepseek",
            lambda: json_reply(
                json.loads(
                    (FIXTURES / "openai_compat/deepseek_nonstream_thinking.json").read_text()
                )
            ),
        ),
        (
            "deepseek",
            lambda: http_fixture("openai_compat/deepseek_nonstream_queued_blank_lines.http"),
        ),
        (
            "native",
            lambda: json_reply(
                json.loads(
                    (FIXTURES / "native/dashscope_native_nonstream_thinking.json").read_text()
                )
            ),
        ),
    ],
)
def test_non_stream_shapes(server, kind, reply):
    server.enqueue(reply())
    request = ChatRequest("deepseek-v4-pro", (Message("user", "hi"),), stream=False)
    thinking, answer, usage, fin = check_order(collect(server, kind, request))
    assert answer or thinking
    assert usage is not None and usage.input_tokens > 0
    assert fin.finish_reason in ("stop", "length")


def test_fim_goes_to_the_beta_completions_endpoint(server):
    server.enqueue(fim_completion("    return a\n"))
    request = ChatRequest("deepseek-v4-pro", (Message("user", "def f(a):"),), suffix="\n")
    _, answer, _, _ = check_order(collect(server, "deepseek", request))
    assert answer == "    return a\n"
    assert server.requests[-1].path == "/beta/completions"
    assert server.requests[-1].json["prompt"] == "def f(a):"
    assert server.requests[-1].json["suffix"] == "\n"


ERRORS = [
    ("compat", "dashscope_compat_400_arrearage.http", AuthError),
    ("compat", "dashscope_compat_400_data_inspection_failed.http", InvalidRequestError),
    ("compat", "dashscope_compat_401_invalid_api_key.http", AuthError),
    ("compat", "dashscope_compat_404_model_not_found.http", InvalidRequestError),
    ("compat", "dashscope_compat_429_limit_requests.http", RateLimitError),
    ("compat", "dashscope_compat_500_internal_error.http", ServerError),
    ("native", "dashscope_native_400_arrearage.http", AuthError),
    ("native", "dashscope_native_400_data_inspection_failed.http", InvalidRequestError),
    ("native", "dashscope_native_400_invalid_parameter.http", InvalidRequestError),
    ("native", "dashscope_native_400_model_not_exist.http", InvalidRequestError),
    ("native", "dashscope_native_401_invalid_api_key.http", AuthError),
    ("native", "dashscope_native_429_allocation_quota.http", RateLimitError),
    ("native", "dashscope_native_429_throttling_rate_quota.http", RateLimitError),
    ("native", "dashscope_native_500_internal_error.http", ServerError),
    ("deepseek", "deepseek_400_model_not_exist.http", InvalidRequestError),
    ("deepseek", "deepseek_400_reasoning_content_not_passed_back.http", InvalidRequestError),
    ("deepseek", "deepseek_401_authentication_fails.http", AuthError),
    ("deepseek", "deepseek_402_insufficient_balance.http", AuthError),
    ("deepseek", "deepseek_422_deserialize_plaintext.http", InvalidRequestError),
    ("deepseek", "deepseek_429_concurrency.http", RateLimitError),
    ("deepseek", "deepseek_500_server_error.http", ServerError),
    ("deepseek", "deepseek_503_server_overloaded.http", ServerError),
]


@pytest.mark.parametrize("kind,fixture,expected", ERRORS, ids=[e[1] for e in ERRORS])
def test_every_error_fixture_maps_to_its_class(server, kind, fixture, expected):
    server.enqueue(http_fixture(f"errors/{fixture}"))
    with pytest.raises(expected) as err:
        collect(server, kind)
    exc = err.value
    body = (FIXTURES / "errors" / fixture).read_text().split("\n\n", 1)[1]
    assert exc.status == int((FIXTURES / "errors" / fixture).read_text().split()[1])
    assert exc.message and exc.message != "no message"
    assert exc.message.split(" For details")[0][:40] in body
    if '"request_id"' in body:
        assert exc.request_id and exc.request_id in body
    assert exc.exit_code in (ExitCode.NOPERM, ExitCode.DATA, ExitCode.UNAVAILABLE)


def test_dashscope_401_hints_at_region_binding(server):
    server.enqueue(http_fixture("errors/dashscope_compat_401_invalid_api_key.http"))
    with pytest.raises(AuthError) as err:
        collect(server, "compat")
    assert "region" in err.value.hint


def test_retired_model_400_hints_at_replacements(server):
    server.enqueue(http_fixture("errors/deepseek_400_model_not_exist.http"))
    with pytest.raises(InvalidRequestError) as err:
        collect(server, "deepseek")
    assert "retired" in err.value.hint


def test_native_error_event_with_http_200(server):
    server.enqueue(sse_fixture("native/dashscope_native_sse_error_http200.sse"))
    with pytest.raises(InvalidRequestError) as err:
        collect(server, "native")
    assert err.value.code == "InvalidParameter"
    assert err.value.request_id == "7671ecd8-93cc-9ee9-bc89-739f0fd8b809"


def test_native_midstream_internal_error_is_retryable_despite_the_sdk_saying_400(server):
    server.enqueue(sse_fixture("native/dashscope_native_midstream_error.sse"))
    with pytest.raises(ServerError) as err:
        collect(server, "native")
    assert err.value.retryable


def test_flat_error_object_inside_an_openai_stream(server):
    server.enqueue(sse_fixture("openai_compat/dashscope_stream_midstream_flat_error.sse"))
    with pytest.raises(RateLimitError) as err:
        collect(server, "compat")
    assert err.value.code == "Throttling.RateQuota"


def test_error_object_inside_a_stream(server):
    server.enqueue(sse_reply(['data: {"error":{"message":"busy","code":"limit_requests"}}\n\n']))
    with pytest.raises(RateLimitError):
        collect(server, "compat")


@pytest.mark.parametrize("kind", ["deepseek", "native"])
def test_stream_that_ends_without_finish_reason_is_truncated(server, kind):
    builder = native_stream if kind == "native" else openai_stream
    server.enqueue(
        builder(answer=["partial"], finish=None, done=False)
        if kind != "native"
        else builder(answer=["partial"], finish=None)
    )
    with pytest.raises(TruncatedError) as err:
        collect(server, kind)
    assert err.value.retryable


def test_insufficient_system_resource_is_a_retryable_truncation(server):
    server.enqueue(
        openai_stream(
            answer=["par"], finish="insufficient_system_resource", usage_placement="finish"
        )
    )
    with pytest.raises(TruncatedError) as err:
        collect(server, "deepseek")
    assert err.value.code == "insufficient_system_resource"


@pytest.mark.parametrize("kind", ["deepseek", "native"])
def test_connection_cut_mid_stream_is_a_cut_answer_not_a_wrong_address(server, kind):
    if kind == "native":
        server.enqueue(native_stream(answer=["a"], finish=None, abort=True))
    else:
        server.enqueue(openai_stream(answer=["a"], finish=None, done=False, reset=True))
    with pytest.raises(TruncatedError) as err:
        collect(server, kind)
    assert "cut off" in err.value.message and "mid-stream" in err.value.message
    assert "base URL" not in (err.value.hint or "")


def test_connection_refused_is_a_network_error():
    dead = FakeServer()
    dead.close()
    with pytest.raises(NetworkError):
        collect(dead, "deepseek")


@pytest.mark.parametrize("kind", ["deepseek", "native"])
def test_keepalives_do_not_stretch_the_first_token_deadline(server, kind):
    """30 s of keep-alives re-arm the idle timer (5 s) every 0.1 s; only the first-token
    deadline (2 s) can end the wait. Measured on the server's clock: when it saw us leave."""
    server.enqueue(sse_reply([": keep-alive\n\n"] * 300, delay=0.1))
    with pytest.raises(TimeoutExpired) as err:
        collect(server, kind, first_token=2, idle=5, total=60)
    assert "first token" in err.value.message
    [request] = server.requests
    wait_for(lambda: request.gone is not None)  # the server notices the hang-up soon after
    assert request.gone is not None and request.gone - request.started < 8


def test_keepalives_then_data_within_the_deadline_succeed(server):
    server.enqueue(openai_stream(answer=["ok"], keepalives=3, delay=0.1, usage_placement="finish"))
    _, answer, _, _ = check_order(collect(server, "deepseek", first_token=3, idle=1, total=10))
    assert answer == "ok"


def test_total_deadline_stops_a_dripping_answer(server):
    """Tokens every 0.1 s for 30 s: the idle (5 s) and first-token (5 s) deadlines are always
    met, so only the total deadline (3 s) ends it, well before the answer would."""
    server.enqueue(openai_stream(answer=["x"] * 300, delay=0.1))
    with pytest.raises(TimeoutExpired) as err:
        collect(server, "deepseek", first_token=5, idle=5, total=3.0)
    assert "total" in err.value.message
    [request] = server.requests
    wait_for(lambda: request.gone is not None)  # the server notices the hang-up soon after
    assert request.gone is not None and request.gone - request.started < 8


def test_idle_deadline_once_tokens_flow(server):
    """The first answer chunk, then silence: the idle deadline (0.5 s) ends it long before
    the first-token (10 s) or total (20 s) deadline would."""
    reply = openai_stream(answer=["Hel", "lo"], finish=None, done=False, keep_open=15)
    server.enqueue(reply)
    with pytest.raises(TimeoutExpired) as err:
        collect(server, "deepseek", idle=0.5, first_token=10, total=20)
    assert "idle deadline" in err.value.message and "idle_timeout" in err.value.hint
    [request] = server.requests
    wait_for(lambda: request.gone is not None)
    assert request.gone - request.started < 8


@pytest.mark.parametrize("kind", ["deepseek", "native"])
def test_before_the_first_token_only_the_first_token_deadline_applies(server, kind):
    """A CPU server sends its headers at once, then nothing while it reads a long prompt: a
    wait longer than the idle limit (0.3 s) but within the first-token deadline succeeds."""
    reply = openai_stream(answer=["ok"]) if kind == "deepseek" else native_stream(answer=["ok"])
    head, *rest = reply.chunks
    reply.chunks = [(1.5, head[1]), *rest]
    server.enqueue(reply)
    _, answer, _, _ = check_order(collect(server, kind, idle=0.3, first_token=10, total=20))
    assert answer == "ok"


def test_a_silent_server_fails_at_the_first_token_deadline(server):
    server.enqueue(Reply(200, {"content-type": "text/event-stream"}, chunks=[], keep_open=15))
    with pytest.raises(TimeoutExpired) as err:
        collect(server, "deepseek", idle=0.2, first_token=1.0, total=20)
    assert "first-token deadline" in err.value.message
    assert "first_token_timeout" in err.value.hint


@pytest.mark.parametrize("kind", ["deepseek", "native"])
def test_untrusted_certificate_is_a_fatal_tls_error(tmp_path, kind):
    from deepseek_cli.errors import TlsError

    tls = FakeServer(ssl_context=self_signed_context(tmp_path))
    try:
        with pytest.raises(TlsError) as err:
            collect(tls, kind)
    finally:
        tls.close()
    assert not err.value.retryable
    assert "SSL_CERT_FILE" in err.value.hint
