"""One prompt with tools: call the model, run the tools it asks for, call it again, until it
answers or ``--max-steps`` model calls were made.

Each model call is an ordinary turn (``turn.run_turn``: retries, rendering, its own ledger
row). Between calls, the assistant turn that asked for tools goes back with its tool calls
and its thinking (DeepSeek refuses the next request without that thinking; the wire rules in
``events.wire_messages`` send it), followed by one ``tool`` message per call. ``ask`` and
``chat`` share this; chat keeps ``ToolRun.added`` in the session so a resumed chat sends the
same history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deepseek_cli.backends.params import Plan
from deepseek_cli.catalog.pricing import Cost, Spend
from deepseek_cli.chat.turn import Outcome, run_turn
from deepseek_cli.config.settings import Settings
from deepseek_cli.conversation import Reply
from deepseek_cli.events import ChatRequest, Message, Usage
from deepseek_cli.render import stderr as say
from deepseek_cli.render.renderer import Renderer

if TYPE_CHECKING:
    from deepseek_cli.tools.execute import CallRecord
    from deepseek_cli.tools.session import ToolSession


@dataclass
class ToolRun:
    """What one prompt with tools produced: every model call's outcome, the messages between
    the prompt and the final answer (tool-call turns and tool results), the call records."""

    outcomes: list[Outcome] = field(default_factory=list)
    added: list[Message] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)
    # The model still asked for tools when --max-steps ran out.
    stopped: bool = False
    # The reply of the model call in progress (or the last one): what an interruption keeps.
    current: Reply = field(default_factory=Reply)

    @property
    def final(self) -> Outcome:
        return self.outcomes[-1]

    @property
    def steps(self) -> int:
        return len(self.outcomes)

    def total_reply(self) -> Reply:
        """The final reply with the usage of every call added up and the time from the first
        call's start, for the usage line and ``--json``."""
        first, last = self.outcomes[0].reply, self.final.reply
        usages = [o.reply.usage for o in self.outcomes]
        usage = None if any(u is None for u in usages) else _sum_usage(usages)  # type: ignore[arg-type]
        return dataclasses.replace(
            last,
            usage=usage,
            started=first.started,
            first_token_at=first.first_token_at,
        )

    def total_cost(self) -> Cost | None:
        """Every call's cost added up; unknown when any is unknown or they differ in currency."""
        spend = Spend()
        for outcome in self.outcomes:
            spend.add(outcome.cost)
        return spend.total()


def _sum_usage(usages: list[Usage]) -> Usage:
    reasoning = [u.reasoning_tokens for u in usages]
    known = [r for r in reasoning if r is not None]
    return Usage(
        input_tokens=sum(u.input_tokens for u in usages),
        cached_tokens=sum(u.cached_tokens for u in usages),
        output_tokens=sum(u.output_tokens for u in usages),
        reasoning_tokens=sum(known) if len(known) == len(reasoning) else None,
        total_tokens=sum(u.total_tokens for u in usages),
    )


def run_with_tools(
    settings: Settings,
    request: ChatRequest,
    plan: Plan,
    renderer: Callable[[], Renderer],
    tools: ToolSession,
    *,
    command: str,
    max_steps: int,
    prompt: str | None = None,
    run: ToolRun | None = None,
) -> ToolRun:
    """Call the model until it answers without asking for tools, at most ``max_steps``
    times. ``renderer`` makes each call's renderer. Raises what ``run_turn`` raises; a caller
    that passes ``run`` keeps the calls made before the failure."""
    run = run if run is not None else ToolRun()
    while True:
        messages = (*request.messages, *run.added)
        step = dataclasses.replace(request, messages=messages, tools=tools.specs())
        run.current = Reply()
        outcome = run_turn(
            settings, step, plan, renderer(), command=command, prompt=prompt, reply=run.current
        )
        run.outcomes.append(outcome)
        reply = outcome.reply
        if outcome.status != "ok" or not reply.tool_calls:
            return run
        if run.steps >= max_steps:
            names = ", ".join(dict.fromkeys(tools.qualified(c.name) for c in reply.tool_calls))
            say.warning(
                f"stopped after {run.steps} model calls (--max-steps {max_steps}); "
                f"the model still asked for {names}"
            )
            run.stopped = True
            return run
        # The thinking always goes with a tool-call turn (empty when there was none): the
        # wire rules decide whether it is sent, and DeepSeek wants the field present.
        calls = reply.tool_calls
        turn = Message("assistant", reply.answer, reasoning=reply.thinking, tool_calls=calls)
        done = tools.run(calls)
        # Added whole, after every call ran: a history with a tool call and no result for
        # it is refused by the API, so an interruption in between must leave none behind.
        run.added.extend([turn, *(message for message, _ in done)])
        run.records.extend(record for _, record in done)
