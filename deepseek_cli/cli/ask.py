"""``deepseek ask``: one request, shaped for shell pipes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import option, request_options

if TYPE_CHECKING:
    from deepseek_cli.chat.turn import Outcome
    from deepseek_cli.config.settings import RequestFlags, Settings

EPILOG = """\b
Examples:
  deepseek ask "why is the sky blue?"
  git diff | deepseek ask "review this diff" -p deepseek
  deepseek ask -f notes.md "summarise" --hide-thinking -u
  deepseek ask --json -m deepseek-v4-flash "2+2?" | jq -r .answer
  deepseek ask -p deepseek --suffix "    return a" "def fib(a):"
"""


@guarded
@request_options()
def ask(
    prompt: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PROMPT...", help="Prompt words, joined with spaces. Piped stdin is appended."
        ),
    ] = None,
    *,
    flags: RequestFlags,
    file: Annotated[
        list[Path] | None, option("-f, --file PATH", "Add a text file's contents. Repeatable.")
    ] = None,
    force: Annotated[
        bool, option("--force", "Send files even if binary or secret-looking.")
    ] = False,
    json_object: Annotated[
        bool, option("--json-object", "Ask for a JSON object (response_format).")
    ] = False,
    prefix: Annotated[
        str | None,
        option(
            "--prefix TEXT", "Start the answer with TEXT (DeepSeek chat prefix completion, beta)."
        ),
    ] = None,
    suffix: Annotated[
        str | None,
        option(
            "--suffix TEXT",
            "Fill in the middle: the prompt is the code before, "
            "TEXT the code after (DeepSeek FIM, beta).",
        ),
    ] = None,
    stop: Annotated[list[str] | None, option("--stop SEQ", "Stop sequence. Repeatable.")] = None,
    show_thinking: Annotated[
        bool | None,
        option(
            "--show-thinking/--hide-thinking",
            "Show or hide the model's thinking (piped: on stderr).",
        ),
    ] = None,
    usage: Annotated[bool, option("-u, --usage", "Print the usage line.")] = False,
    no_stream: Annotated[bool, option("--no-stream", "Wait for the whole answer.")] = False,
    json_output: Annotated[
        bool, option("--json", "Print one JSON object with answer, usage and cost.")
    ] = False,
) -> None:
    """Send one prompt and print the answer."""
    from deepseek_cli.chat import prompt_input
    from deepseek_cli.chat.turn import cut_by_max_tokens, plan_and_warn, run_turn
    from deepseek_cli.config import settings
    from deepseek_cli.conversation import build_messages
    from deepseek_cli.render import stderr as say
    from deepseek_cli.render.renderer import choose_renderer
    from deepseek_cli.render.stdout import emit_json
    from deepseek_cli.render.terminal import stderr_columns, stdout_is_terminal
    from deepseek_cli.render.usage_line import usage_line

    stdin_text = (
        None
        if sys.stdin is None or sys.stdin.isatty()
        else prompt_input.read_stdin(sys.stdin.buffer)
    )
    attachments = [(path, prompt_input.read_attachment(path, force=force)) for path in file or []]
    text = prompt_input.compose(list(prompt or []), stdin_text, attachments)
    if json_object and "json" not in text.lower() and "json" not in (flags.system or "").lower():
        say.warning("--json-object: the prompt should mention JSON, or the provider may refuse")

    resolved = settings.load(flags, os.environ)
    messages = build_messages(text, system=resolved.system, prefix=prefix)
    request = resolved.chat_request(
        messages,
        stream=not no_stream,
        json_object=json_object,
        stop=tuple(stop or ()),
        suffix=suffix,
    )
    plan = plan_and_warn(resolved, request)
    renderer = choose_renderer(
        show_thinking=show_thinking, quiet=json_output, label=resolved.profile.model
    )
    result = run_turn(resolved, request, plan, renderer, command="ask", prompt=text)
    if result.status == "output_closed":
        return
    no_answer = cut_by_max_tokens(plan, result.reply)
    if json_output:
        emit_json(answer_json(resolved, result))
    elif usage or stdout_is_terminal():
        say.dim(usage_line(result.reply, result.cost, stderr_columns()))
    if no_answer is not None:
        raise no_answer


def answer_json(settings: Settings, outcome: Outcome) -> dict[str, Any]:
    """The object ``ask --json`` prints: the answer with its usage, cost and timings."""
    reply = outcome.reply
    return {
        "profile": settings.profile.name,
        "provider": settings.profile.provider,
        "model": settings.profile.model,
        "served_model": reply.served_model,
        "answer": reply.answer,
        "reasoning": reply.thinking or None,
        "finish_reason": reply.finish_reason,
        "usage": (reply.usage.to_json() if reply.usage else None),
        "cost": outcome.cost.to_json() if outcome.cost else None,
        "request_id": reply.request_id,
        "latency_ms": reply.latency_ms,
        "ttft_ms": reply.ttft_ms,
    }
