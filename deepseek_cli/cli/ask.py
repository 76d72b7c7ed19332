"""``deepseek ask``: one request, shaped for shell pipes."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import option, option_group, request_options
from deepseek_cli.cli.tool_options import ToolFlags

if TYPE_CHECKING:
    from deepseek_cli.catalog.pricing import Cost
    from deepseek_cli.chat.tool_loop import ToolRun
    from deepseek_cli.config.settings import RequestFlags, Settings
    from deepseek_cli.conversation import Reply
    from deepseek_cli.render.renderer import Renderer

EPILOG = """\b
Examples:
  deepseek ask "why is the sky blue?"
  git diff | deepseek ask "review this diff" -p deepseek
  deepseek ask -f notes.md "summarise" --hide-thinking -u
  deepseek ask --json -m deepseek-v4-flash "2+2?" | jq -r .answer
  deepseek ask -p deepseek --suffix "    return a" "def fib(a):"
  deepseek ask --tool calc --yes "what is 2+3? use the tool"
"""


@guarded
@request_options()
@option_group(ToolFlags, at="tools")
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
    tools: ToolFlags,
) -> None:
    """Send one prompt and print the answer."""
    from deepseek_cli.chat import prompt_input
    from deepseek_cli.chat.turn import cut_by_max_tokens, plan_and_warn, run_turn
    from deepseek_cli.config import settings
    from deepseek_cli.conversation import build_messages
    from deepseek_cli.errors import NoAnswerError, UsageError
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
    if suffix is not None and tools.names(resolved):
        raise UsageError("--suffix (fill in the middle) cannot use tools; leave out --tool")
    plan = plan_and_warn(resolved, request)
    toolbox = tools.open(resolved)

    def renderer() -> Renderer:
        return choose_renderer(
            show_thinking=show_thinking,
            quiet=json_output,
            label=resolved.profile.model,
            tools=toolbox is not None,
        )

    if toolbox is None:
        result = run_turn(resolved, request, plan, renderer(), command="ask", prompt=text)
        reply, cost, run = result.reply, result.cost, None
    else:
        from deepseek_cli.chat.tool_loop import run_with_tools

        with contextlib.closing(toolbox):
            run = run_with_tools(
                resolved,
                request,
                plan,
                renderer,
                toolbox,
                command="ask",
                max_steps=tools.max_steps,
                prompt=text,
            )
        result, reply, cost = run.final, run.total_reply(), run.total_cost()
    if result.status == "output_closed":
        return
    no_answer = cut_by_max_tokens(plan, result.reply)
    if run is not None and run.stopped and not result.reply.answer.strip():
        no_answer = NoAnswerError(
            f"no answer within --max-steps {tools.max_steps} model calls",
            "raise --max-steps, or ask for fewer tool calls",
        )
    if json_output:
        emit_json(answer_json(resolved, reply, cost, run))
    elif usage or stdout_is_terminal():
        say.dim(usage_line(reply, cost, stderr_columns()))
    if no_answer is not None:
        raise no_answer


def answer_json(
    settings: Settings,
    reply: Reply,
    cost: Cost | None,
    run: ToolRun | None = None,
) -> dict[str, Any]:
    """The object ``ask --json`` prints: the answer with its usage, cost and timings (of all
    the model calls, with tools; then also the tool calls and the number of model calls)."""
    data: dict[str, Any] = {
        "profile": settings.profile.name,
        "provider": settings.profile.provider,
        "model": settings.profile.model,
        "served_model": reply.served_model,
        "answer": reply.answer,
        "reasoning": reply.thinking or None,
        "finish_reason": reply.finish_reason,
        "usage": (reply.usage.to_json() if reply.usage else None),
        "cost": cost.to_json() if cost else None,
        "request_id": reply.request_id,
        "latency_ms": reply.latency_ms,
        "ttft_ms": reply.ttft_ms,
    }
    if run is not None:
        data["tool_calls"] = [record.to_json() for record in run.records]
        data["steps"] = run.steps
    return data
