"""Chat sessions on disk: one private JSON file per session, rewritten atomically each turn.

A session records, per turn, the profile, model, prompt, thinking, answer, usage, cost and how
the turn ended, so ``--session NAME`` and ``-c`` can resume a conversation in a new process
and ``/sessions`` can list them. Sessions are ordered by the time they record (their last
turn's), not by file times, which a ``touch``, a copy or a restore from backup changes.
Files live in ``<data dir>/sessions`` (0700), are 0600 from
their first byte, and are replaced with temp file + rename so a crash never leaves half a
session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from deepseek_cli.config import paths
from deepseek_cli.errors import UsageError
from deepseek_cli.events import Message
from deepseek_cli.safefile import ensure_private_dir, write_atomic
from deepseek_cli.timestamps import utc_iso

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# "interrupted": Ctrl-C during the answer; the part that arrived is kept.
TurnStatus = Literal["ok", "interrupted"]


@dataclass
class Turn:
    prompt: str
    answer: str
    thinking: str = ""
    profile: str = ""
    model: str = ""
    status: TurnStatus = "ok"
    usage: dict[str, int | None] | None = None
    cost: dict[str, Any] | None = None
    request_id: str | None = None
    ts: str = field(default_factory=utc_iso)


@dataclass
class Session:
    name: str
    created: str = field(default_factory=utc_iso)
    turns: list[Turn] = field(default_factory=list)

    def history(self) -> tuple[Message, ...]:
        """The exchanges sent back to the model; thinking stays in the transcript only."""
        messages: list[Message] = []
        for turn in self.turns:
            messages.append(Message("user", turn.prompt))
            messages.append(Message("assistant", turn.answer, reasoning=turn.thinking or None))
        return tuple(messages)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created,
            "turns": [asdict(t) for t in self.turns],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        turns = [
            Turn(**{k: v for k, v in t.items() if k in Turn.__dataclass_fields__})
            for t in data.get("turns", [])
        ]
        return cls(name=data["name"], created=data.get("created", ""), turns=turns)


@dataclass(frozen=True)
class SessionInfo:
    name: str
    updated: datetime
    model: str
    turns: int
    first_line: str


def sessions_dir(env: Mapping[str, str]) -> Path:
    return paths.data_dir(env) / "sessions"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"bad session name '{name}'", "use letters, digits, '.', '_' or '-' (up to 64)"
        )
    return name


def new_name() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def path_for(env: Mapping[str, str], name: str) -> Path:
    return sessions_dir(env) / f"{check_name(name)}.json"


def save(env: Mapping[str, str], session: Session) -> None:
    ensure_private_dir(sessions_dir(env))
    data = json.dumps(session.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
    write_atomic(path_for(env, session.name), data)


def load(env: Mapping[str, str], name: str) -> Session | None:
    path = path_for(env, name)
    try:
        return Session.from_json(json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"session file {path} is unreadable ({exc})") from None


def listing(env: Mapping[str, str]) -> list[SessionInfo]:
    """Sessions, most recently updated first; unreadable files are skipped."""
    folder = sessions_dir(env)
    if not folder.is_dir():
        return []
    found: list[tuple[datetime, datetime, SessionInfo]] = []
    for path in folder.glob("*.json"):
        try:
            data = json.loads(path.read_text("utf-8"))
            turns = data.get("turns", [])
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except (OSError, ValueError):
            continue
        # Recorded times have whole seconds: a tie goes to the file written last.
        updated = _recorded_time(data) or modified
        first = (turns[0].get("prompt", "") if turns else "").strip().split("\n")[0]
        model = turns[-1].get("model", "") if turns else ""
        found.append((updated, modified, SessionInfo(path.stem, updated, model, len(turns), first)))
    found.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [info for _, _, info in found]


def _recorded_time(data: Mapping[str, Any]) -> datetime | None:
    """When the session was last updated by its own account: its last turn's ``ts``, else
    ``created``; ``None`` in files from before sessions recorded them."""
    turns = data.get("turns") or []
    for stamp in (turns[-1].get("ts") if turns else None, data.get("created")):
        if not isinstance(stamp, str):
            continue
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def latest(env: Mapping[str, str]) -> str | None:
    found = listing(env)
    return found[0].name if found else None
