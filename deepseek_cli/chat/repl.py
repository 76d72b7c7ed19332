"""The ``deepseek chat`` loop: read a line, send it as a turn or run a slash command, save.

Input comes from a :class:`LineSource` (the prompt_toolkit editor on a terminal, plain lines
when stdin is piped), so the loop itself knows nothing about terminals; the slash commands are
a table it is given (``slash_commands.COMMANDS``). Each turn goes through ``turn.run_turn``
like ``ask`` does (same notices, retries, rendering and ledger row) and is then saved to the
session file. A failed turn prints one line and the loop goes on; Ctrl-C during an answer
keeps the partial answer (marked interrupted, and in the history so the next turn has the
context; ``/undo`` drops it) and returns to the prompt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from deepseek_cli.chat import prompt_input, sessions
from deepseek_cli.chat.sessions import Session, Turn, TurnStatus
from deepseek_cli.chat.tool_loop import ToolRun, run_with_tools
from deepseek_cli.chat.turn import cut_by_max_tokens, plan_and_warn, reply_cost, run_turn
from deepseek_cli.config import settings as settings_module
from deepseek_cli.config.settings import RequestFlags, Settings
from deepseek_cli.conversation import build_messages
from deepseek_cli.errors import CliError, ExitCode, NoAnswerError, error_line, io_error
from deepseek_cli.render import stderr as say
from deepseek_cli.render.renderer import Renderer
from deepseek_cli.render.terminal import stderr_columns
from deepseek_cli.render.usage_line import usage_line

if TYPE_CHECKING:
    # Only the type: the session (and the MCP SDK under it) is imported when tools are used.
    from deepseek_cli.tools.session import ToolSession


class LineSource(Protocol):
    def read(self, prompt: str) -> str:
        """One input; raises EOFError at the end and KeyboardInterrupt when cancelled."""
        ...

    def edit(self, initial: str) -> str | None:
        """Compose text in the user's editor; ``None`` when not possible."""
        ...


@dataclass(frozen=True)
class Command:
    """A slash command: ``/name args``, its one-line help, and what it does to the REPL."""

    name: str
    args: str
    help: str
    run: Callable[[Repl, str], None]


@dataclass
class Output:
    """How answers and transcripts are shown; the CLI layer provides these."""

    renderer: Callable[[Settings], Renderer]
    transcript: Callable[[Turn], None] = lambda turn: None
    clear_screen: Callable[[], None] = lambda: None


class ExitRepl(Exception):
    """Raised by /exit: control flow, not an error."""


@dataclass
class Repl:
    env: Mapping[str, str]
    flags: RequestFlags
    session: Session
    source: LineSource
    output: Output
    interactive: bool
    commands: Mapping[str, Command]
    attachments: list[tuple[Path, str]] = field(default_factory=list)
    lock: sessions.SessionLock | None = None  # this process's claim on the session
    last_failure: ExitCode | None = None
    failed_prompt: str | None = None
    # The tools in use (--tool, the profile's, /tool); ``start_tools`` opens an empty set
    # for the first /tool when the chat began without any.
    tools: ToolSession | None = None
    start_tools: Callable[[Settings], ToolSession] | None = None
    max_steps: int = 10
    _settings: Settings | None = None

    # -- settings
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = settings_module.load(self.flags, self.env)
        return self._settings

    def change(self, **changes: object) -> bool:
        """Apply flag changes; keep the old ones when the result does not resolve."""
        candidate = dataclasses.replace(self.flags, **changes)  # type: ignore[arg-type]
        try:
            resolved = settings_module.load(candidate, self.env)
        except CliError as exc:
            say.error(error_line(exc))
            return False
        self.flags, self._settings = candidate, resolved
        return True

    # -- the loop
    def run(self) -> int:
        while True:
            try:
                line = self.source.read(self.prompt_text())
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            except EOFError:
                break
            except CliError as exc:  # a line that cannot be a prompt (not UTF-8, too long)
                say.error(error_line(exc))
                self.last_failure = exc.exit_code
                continue
            try:
                self.handle(line)
            except ExitRepl:
                break
        if self.interactive:
            return 0
        return int(self.last_failure) if self.last_failure is not None else 0

    def prompt_text(self) -> str:
        try:
            return f"{self.settings.profile.model} › "
        except CliError:
            return "› "

    def handle(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        if text.startswith("//"):
            self.send(line.strip()[1:])
            return
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            command = self.commands.get(name.lower())
            if command is None:
                say.warning(f"unknown command /{name}; /help lists them")
                return
            if args.strip() and not command.args and command.name not in ("exit", "help"):
                say.warning(f"/{command.name} takes no argument; nothing done")
                return
            command.run(self, args.strip())
            return
        self.send(line.rstrip("\n"))

    # -- turns
    def send(self, prompt: str) -> None:
        if self.attachments:
            prompt = prompt_input.compose([prompt], None, self.attachments)
            self.attachments = []
        try:
            settings = self.settings
            messages = build_messages(
                prompt, system=settings.system, history=self.session.history()
            )
            request = settings.chat_request(messages)
            plan = plan_and_warn(settings, request)
        except CliError as exc:
            self._failed(exc, prompt)
            return
        tools = self.tools if self.tools is not None and self.tools.tools else None
        run = ToolRun()
        status: TurnStatus = "ok"
        closed = False
        try:
            if tools is None:
                result = run_turn(
                    settings,
                    request,
                    plan,
                    self.output.renderer(settings),
                    command="chat",
                    prompt=prompt,
                    reply=run.current,
                )
                run.outcomes.append(result)
            else:
                run_with_tools(
                    settings,
                    request,
                    plan,
                    lambda: self.output.renderer(settings),
                    tools,
                    command="chat",
                    max_steps=self.max_steps,
                    prompt=prompt,
                    run=run,
                )
            closed = run.final.status == "output_closed"
            reply, cost = run.total_reply(), run.total_cost()
        except KeyboardInterrupt:
            status = "interrupted"
            reply = run.current
            cost = reply_cost(settings, reply)
        except CliError as exc:
            self._failed(exc, prompt)
            return
        self.failed_prompt = None
        if status == "ok" and (no_answer := cut_by_max_tokens(plan, run.final.reply)) is not None:
            self._failed(no_answer, prompt)  # nothing to keep; /retry resends
            return
        if status == "interrupted" and not reply.answer:
            say.notice("interrupted before the answer began; nothing kept (/retry resends)")
            self.failed_prompt = prompt
            return
        if run.stopped and not reply.answer:
            self._failed(
                NoAnswerError(
                    f"no answer within --max-steps {self.max_steps} model calls",
                    "/retry resends; start the chat with a larger --max-steps",
                ),
                prompt,
            )
            return
        self.session.turns.append(
            Turn(
                prompt=prompt,
                answer=reply.answer,
                thinking=reply.thinking,
                profile=settings.profile.name,
                model=settings.profile.model,
                status=status,
                usage=reply.usage.to_json() if reply.usage else None,
                cost=cost.to_json() if cost else None,
                request_id=reply.request_id,
                steps=[sessions.message_json(m) for m in run.added],
            )
        )
        self.save()
        if closed:
            raise ExitRepl  # nobody reads the answers any more: send nothing else
        if self.interactive:
            say.dim(usage_line(reply, cost, stderr_columns()))

    def _failed(self, exc: CliError, prompt: str) -> None:
        say.error(error_line(exc))
        self.last_failure = exc.exit_code
        self.failed_prompt = prompt

    def switch(self, lock: sessions.SessionLock, session: Session) -> None:
        """Use ``session`` from now on, holding ``lock`` on it instead of the old claim."""
        if self.lock is not None and self.lock.name != lock.name:
            self.lock.release()
        self.lock, self.session = lock, session

    def save(self) -> None:
        """Write the session; a failure (disk full, read-only) warns, and the turns stay in
        memory for the next save. A piped chat then exits 74."""
        try:
            sessions.save(self.env, self.session)
        except OSError as exc:
            error = io_error(exc, f"session {self.session.name} not saved")
            say.error(error_line(error))
            self.last_failure = error.exit_code
