"""Error lines for what real OpenAI-compatible servers send (bodies as llama.cpp b0-unknown of
llama-cpp-python 0.3.36 and LiteLLM send them): one line, the right code, a useful hint."""

from __future__ import annotations

from fakeserver import json_reply

LLAMA_CONTEXT = {
    "error": {
        "code": 400,
        "message": "request (3014 tokens) exceeds the available context size (1024 tokens), "
        "try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 3014,
        "n_ctx": 1024,
    }
}
LLAMA_NOT_FOUND = {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}}
LLAMA_KEY = {"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}}
LITELLM_400 = {
    "error": {
        "message": "litellm.BadRequestError: OpenAIException - Invalid value for temperature",
        "type": "None",
        "param": "None",
        "code": "400",
    }
}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_context_overflow_names_the_type_and_says_what_to_do(cli):
    cli.server.enqueue(json_reply(LLAMA_CONTEXT, status=400))
    result = cli.run("ask", "-p", "oai", "a long prompt")
    assert result.code == 65
    line = one_line(result.stderr)
    assert "(HTTP 400, exceed_context_size_error)" in line
    assert "shorten it" in line and "/clear" in line


def test_a_code_that_repeats_the_status_is_not_shown_twice(cli):
    cli.server.enqueue(json_reply(LITELLM_400, status=400))
    result = cli.run("ask", "-p", "oai", "hi")
    assert result.code == 65
    line = one_line(result.stderr)
    assert "(HTTP 400)" in line and "400, 400" not in line and "None" not in line


def test_a_wrong_base_path_names_the_url_and_the_v1_it_lacks(cli):
    cli.write_config(f"""
    [profiles.nov1]
    provider = "openai"
    base_url = "{cli.server.url}/api"
    model = "local"
    """)
    cli.server.enqueue(json_reply(LLAMA_NOT_FOUND, status=404))
    result = cli.run("ask", "-p", "nov1", "hi")
    assert result.code == 65
    line = one_line(result.stderr)
    assert f"no API at {cli.server.url}/api/chat/completions" in line
    assert f"under /v1 (e.g. {cli.server.url}/v1)" in line
    assert "404, 404" not in line


def test_a_keyless_profile_at_a_keyed_server_is_told_about_api_key_env(cli):
    cli.server.enqueue(json_reply(LLAMA_KEY, status=401))
    result = cli.run("ask", "-p", "oai", "hi")
    assert result.code == 77
    line = one_line(result.stderr)
    assert "api_key_env" in line and "[profiles.oai]" in line
    assert "check the openai API key" not in line


def test_a_profile_whose_key_variable_is_unset_is_told_which(cli):
    cli.write_config(f"""
    [profiles.keyed]
    provider = "openai"
    base_url = "{cli.server.url}/v1"
    model = "local"
    api_key_env = "LOCAL_LLM_KEY"
    """)
    cli.server.enqueue(json_reply(LLAMA_KEY, status=401))
    result = cli.run("models", "-p", "keyed", "--live")
    assert result.code == 77
    assert "LOCAL_LLM_KEY is not set" in one_line(result.stderr)
