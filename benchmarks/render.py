"""Render cost of the live renderer against the naive ``Live`` + ``Markdown`` approach.

Usage: python benchmarks/render.py [--sizes 1000,4000,16000,64000] [--naive-full]

Workload: a third of the tokens are thinking prose, two thirds a Markdown answer (headings,
paragraphs with inline styles, fenced code in several languages, nested lists, tables,
quotes, rules); tokens are about 4.3 characters. Output goes to a terminal-like Console
writing to /dev/null (100x50, truecolor), so the figures are the renderer's CPU, not the
terminal emulator's.

Two feeds per size (each the median of ``--repeat`` runs):
- firehose: tokens as fast as possible on the real clock (sustained tokens/s);
- 100 tok/s: a virtual clock advances 10 ms per token and the heartbeat ticks every 100 ms,
  giving exactly the frames and commits a real stream would, without waiting for it.

The naive approach (a new ``Markdown`` of the whole answer per token inside ``Live``,
10 frames a second) runs in full for 1K and 4K tokens; larger sizes are estimated from its
per-token and per-frame costs sampled at 12 points of the stream and integrated (a lower
bound: the sampled costs exclude GC and lexer loading). ``--naive-full`` runs them for real
(about an hour at 64K).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from deepseek_cli.events import AnswerDelta, ThinkingDelta
from deepseek_cli.render.live import LiveRenderer, thinking_panel

WORDS = [
    "the",
    "server",
    "returns",
    "a",
    "stream",
    "of",
    "tokens",
    "while",
    "the",
    "client",
    "renders",
    "markdown",
    "blocks",
    "latency",
    "retry",
    "budget",
    "thinking",
    "answer",
    "context",
    "window",
    "cache",
    "hit",
    "price",
    "region",
    "key",
    "because",
    "therefore",
    "however",
    "consider",
    "which",
    "would",
    "mean",
    "that",
    "we",
    "can",
    "also",
]
LANGS = ["python", "bash", "rust", "go", "javascript", "sql", "yaml"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    text = " ".join(words).capitalize()
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = rng.choice(["**bold**", "*italic*", "`code()`", "[link](https://x.y/z)"])
        text = " ".join(words).capitalize()
    return text + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))


# Block kinds in a fixed rotation (paragraphs most often), so that every stream size has the
# same mix and per-token costs compare across sizes.
ROTATION = [0.1, 0.5, 0.2, 0.65, 0.3, 0.75, 0.12, 0.85, 0.4, 0.92, 0.25, 0.5, 0.97, 0.15]


def block(rng: random.Random, index: int) -> str:
    kind = ROTATION[index % len(ROTATION)]
    if kind < 0.35:
        return paragraph(rng)
    if kind < 0.45:
        return "#" * rng.randint(1, 3) + " " + sentence(rng).rstrip(".")
    if kind < 0.6:
        lang = rng.choice(LANGS)
        body = "\n".join(f"    value_{i} = compute({i}, 'x')" for i in range(rng.randint(4, 22)))
        return f"```{lang}\ndef f():\n{body}\n```"
    if kind < 0.72:
        items = []
        for _ in range(rng.randint(2, 6)):
            items.append(f"- {sentence(rng)}")
            if rng.random() < 0.3:
                items.append(f"  - {sentence(rng)}")
        return "\n".join(items)
    if kind < 0.8:
        return "\n".join(f"{i}. {sentence(rng)}" for i in range(1, rng.randint(3, 7)))
    if kind < 0.9:
        cols = rng.randint(2, 5)
        head = "| " + " | ".join(f"col {c}" for c in range(cols)) + " |"
        sep = "|" + "|".join("---" for _ in range(cols)) + "|"
        rows = [
            "| " + " | ".join(rng.choice(WORDS) for _ in range(cols)) + " |"
            for _ in range(rng.randint(2, 10))
        ]
        return "\n".join([head, sep, *rows])
    if kind < 0.96:
        return "> " + sentence(rng) + "\n> " + sentence(rng)
    return "---"


def workload(tokens: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """(thinking tokens, answer tokens) with about 4.3 characters per token."""
    rng = random.Random(seed)
    thinking_chars = int(tokens / 3 * 4.3)
    answer_chars = int(tokens * 2 / 3 * 4.3)
    thinking = ""
    while len(thinking) < thinking_chars:
        thinking += paragraph(rng) + "\n\n"
    answer, index = "", 0
    while len(answer) < answer_chars:
        answer += block(rng, index) + "\n\n"
        index += 1
    return split_tokens(thinking[:thinking_chars], rng), split_tokens(answer[:answer_chars], rng)


def split_tokens(text: str, rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        size = rng.choice([2, 3, 4, 4, 5, 5, 6, 7])
        out.append(text[i : i + size])
        i += size
    return out


def terminal() -> Console:
    return Console(
        file=open(os.devnull, "w"),
        force_terminal=True,
        width=100,
        height=50,
        color_system="truecolor",
    )


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_blocks(thinking: list[str], answer: list[str], rate: float | None) -> dict[str, float]:
    clock: Callable[[], float] = time.monotonic
    virtual = VirtualClock()
    if rate is not None:
        clock = virtual
    renderer = LiveRenderer(terminal(), clock=clock)
    worst = 0.0
    next_tick = 0.1
    cpu0, wall0 = time.process_time(), time.perf_counter()
    events = [ThinkingDelta(t) for t in thinking] + [AnswerDelta(t) for t in answer]
    for event in events:
        started = time.perf_counter()
        if rate is not None:
            virtual.now += 1 / rate
            while virtual.now >= next_tick:
                renderer.tick()
                next_tick += 0.1
        renderer.on_event(event)
        worst = max(worst, time.perf_counter() - started)
    renderer.close(None, complete=True)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = len(events)
    return {"cpu": cpu, "ms_per_token": cpu / n * 1000, "worst_ms": worst * 1000, "tok_s": n / wall}


def median_run(
    thinking: list[str], answer: list[str], rate: float | None, repeat: int
) -> dict[str, float]:
    """The run with the median CPU of ``repeat`` runs (the machine is shared and noisy)."""
    runs = sorted(
        (run_blocks(thinking, answer, rate) for _ in range(repeat)), key=lambda r: r["cpu"]
    )
    return runs[len(runs) // 2]


def run_naive(thinking: list[str], answer: list[str], rate: float) -> dict[str, float]:
    console = terminal()
    live = Live(console=console, auto_refresh=False, vertical_overflow="ellipsis", transient=False)
    live.start()
    think, text, worst, frames_due = "", "", 0.0, 0.0
    cpu0 = time.process_time()
    for i, token in enumerate(thinking + answer):
        started = time.perf_counter()
        if i < len(thinking):
            think += token
        else:
            text += token
        live.update(Group(thinking_panel(think), Markdown(text)), refresh=False)
        frames_due += 10 / rate
        if frames_due >= 1:
            frames_due -= 1
            live.refresh()
        worst = max(worst, time.perf_counter() - started)
    live.stop()
    cpu = time.process_time() - cpu0
    n = len(thinking) + len(answer)
    return {"cpu": cpu, "ms_per_token": cpu / n * 1000, "worst_ms": worst * 1000}


def estimate_naive(thinking: list[str], answer: list[str], rate: float) -> dict[str, float]:
    """Integrate sampled per-token (parse) and per-frame (render) costs over the stream."""
    console = terminal()
    n = len(thinking) + len(answer)
    points = 12
    total, worst = 0.0, 0.0
    previous_cost = 0.0
    for k in range(points + 1):
        upto = max(1, int(n * k / points))
        think = "".join(thinking[:upto])
        text = "".join(answer[: max(0, upto - len(thinking))])
        started = time.perf_counter()
        renderable = Group(thinking_panel(think), Markdown(text))
        parse = time.perf_counter() - started
        started = time.perf_counter()
        console.render_lines(renderable, console.options)
        frame = time.perf_counter() - started
        per_token = parse + frame * 10 / rate
        worst = max(worst, parse + frame)
        if k:
            total += (previous_cost + per_token) / 2 * (n / points)
        previous_cost = per_token
    return {"cpu": total, "ms_per_token": total / n * 1000, "worst_ms": worst * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,4000,16000,64000")
    parser.add_argument("--naive-full", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per blocks figure (median)")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    results: dict[tuple[str, int], dict[str, float]] = {}
    print(
        f"{'approach':<24} {'tokens':>7} {'CPU s':>9} {'CPU ms/tok':>11} "
        f"{'worst frame ms':>15} {'tok/s':>9}"
    )
    for size in sizes:
        thinking, answer = workload(size)
        rows = [
            ("blocks, firehose", median_run(thinking, answer, None, options.repeat)),
            ("blocks, 100 tok/s", median_run(thinking, answer, 100.0, options.repeat)),
        ]
        if size <= 4000 or options.naive_full:
            rows.append(("naive, 100 tok/s", run_naive(thinking, answer, 100.0)))
        else:
            rows.append(("naive, 100 tok/s (est.)", estimate_naive(thinking, answer, 100.0)))
        for name, r in rows:
            results[(name.split(" (")[0], size)] = r
            tok_s = f"{r['tok_s']:>9,.0f}" if "firehose" in name else f"{'-':>9}"
            print(
                f"{name:<24} {size:>7,} {r['cpu']:>9.3f} {r['ms_per_token']:>11.4f} "
                f"{r['worst_ms']:>15.2f} {tok_s}",
                flush=True,
            )
    if 4000 in sizes and 64000 in sizes:
        print()
        for name in ("blocks, firehose", "blocks, 100 tok/s", "naive, 100 tok/s"):
            ratio = results[(name, 64000)]["cpu"] / results[(name, 4000)]["cpu"]
            print(f"CPU(64K)/CPU(4K) {name:<20} {ratio:8.1f}   (linear = 16)")


if __name__ == "__main__":
    main()
