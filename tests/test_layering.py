"""The package's layering, read from the source (ast; nothing is imported).

Layers from the top; a module may import its own package and the layers below it, never a
layer above, so packages never import each other. Third-party libraries that shape a layer
stay in it: Typer in ``cli``, Rich in ``render``, prompt_toolkit in ``chat``, every SDK and all
network code in ``backends``, the MCP SDK in ``tools``. A new folder must be added
to ``LAYERS`` on purpose: an unknown one fails the test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "deepseek_cli"

# Top to bottom. "entry" is __main__; "leaf" the modules at the package root.
LAYERS = (
    "entry",
    "cli",
    "chat",
    "compare",
    "batch.remote",
    "batch",
    "tools",
    "render",
    "backends",
    "ledger",
    "config",
    "catalog",
    "leaf",
)
LEAVES = {"errors", "events", "conversation", "safefile", "redaction", "timestamps"}

# Third-party (and stdlib network) modules and the one layer allowed to import them.
CONFINED = {
    "typer": "cli",
    "click": "cli",
    "rich": "render",
    "markdown_it": "render",
    "prompt_toolkit": "chat",
    "openai": "backends",
    "dashscope": "backends",
    "httpx": "backends",
    "httpx2": "backends",
    "aiohttp": "backends",
    "requests": "backends",
    "urllib3": "backends",
    "urllib.request": "backends",
    "http.client": "backends",
    "socket": "backends",
    "mcp": "tools",
    "mcp_types": "tools",
}
MAX_LINES = 400
MAX_ROOT_MODULES = 8


@dataclass(frozen=True)
class Import:
    module: str  # importing module, dotted, without the package name
    line: int
    target: str  # what it imports, absolute (ours start with "deepseek_cli")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> Iterator[Import]:
    """Every import in ``source``, also those inside functions and ``TYPE_CHECKING``.

    ``from deepseek_cli.x import y`` yields ``deepseek_cli.x.y`` (``y`` may be a module);
    other libraries are named by module only.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["deepseek_cli", *filter(None, package.split("."))]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "deepseek_cli" or target.startswith("deepseek_cli."):
                for alias in node.names:
                    yield Import(module, node.lineno, f"{target}.{alias.name}")
            else:
                yield Import(module, node.lineno, target)


def layer_of(module: str) -> str | None:
    """The layer of a module (or a name in it) given without the package prefix."""
    if module in ("", "__init__"):
        return "leaf"
    if module == "__main__":
        return "entry"
    for layer in LAYERS:
        if module == layer or module.startswith(layer + "."):
            return layer
    first = module.partition(".")[0]
    return "leaf" if first in LEAVES or first == "__version__" else None


def violations(modules: dict[str, tuple[str, bool]]) -> list[str]:
    """Every rule broken by ``modules`` (name -> (source, is_package))."""
    found = []
    for module, (source, is_package) in sorted(modules.items()):
        own = layer_of(module)
        if own is None:
            found.append(f"{module}: not in a known layer (add its folder to LAYERS)")
            continue
        for imp in imports_of(source, module, is_package):
            where = f"{module}:{imp.line}"
            if imp.target.startswith("deepseek_cli."):
                other = layer_of(imp.target.removeprefix("deepseek_cli."))
                if other is None:
                    found.append(f"{where}: imports {imp.target}, which is in no layer")
                elif LAYERS.index(other) < LAYERS.index(own):
                    found.append(f"{where}: {own} imports {imp.target} from {other}, a layer above")
                continue
            for name, allowed in CONFINED.items():
                confined = imp.target == name or imp.target.startswith(name + ".")
                if confined and own != allowed:
                    found.append(f"{where}: imports {imp.target} outside {allowed}/")
    return found


def package_modules() -> dict[str, tuple[str, bool]]:
    return {
        module_name(path, PACKAGE): (path.read_text("utf-8"), path.name == "__init__.py")
        for path in PACKAGE.rglob("*.py")
    }


def test_no_layer_imports_a_layer_above_and_libraries_stay_in_their_layer():
    assert violations(package_modules()) == []


def test_no_import_cycles_between_modules():
    """Also lazy imports: a cycle hidden in a function is still two modules that need each
    other."""
    modules = package_modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, (source, is_package) in modules.items():
        for imp in imports_of(source, module, is_package):
            target = imp.target.removeprefix("deepseek_cli.")
            if not imp.target.startswith("deepseek_cli."):
                continue
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module:
                graph[module].add(target)
    cycles = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_module_is_small_and_says_why_it_exists():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text("utf-8")
        name = path.relative_to(PACKAGE)
        lines = source.count("\n")
        if lines > MAX_LINES:
            problems.append(f"{name}: {lines} lines (at most {MAX_LINES})")
        if ast.get_docstring(ast.parse(source)) is None and source.strip():
            problems.append(f"{name}: no module docstring")
    roots = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    if len(roots) > MAX_ROOT_MODULES:
        problems.append(f"{len(roots)} modules at the package root: {sorted(roots)}")
    assert problems == []


# -- the checker itself must catch what it is for ---------------------------------------------


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("errors", "import rich\n", "errors:1: imports rich outside render/"),
        ("errors", "from rich.text import Text\n", "errors:1: imports rich.text outside render/"),
        ("config.files", "import typer\n", "config.files:1: imports typer outside cli/"),
        ("ledger.store", "import httpx\n", "ledger.store:1: imports httpx outside backends/"),
        (
            "render.live",
            "def f():\n    import socket\n",
            "render.live:2: imports socket outside backends/",
        ),
        (
            "catalog.models",
            "from deepseek_cli.config.profiles import Profile\n",
            "catalog.models:1: catalog imports deepseek_cli.config.profiles.Profile from config, "
            "a layer above",
        ),
        (
            "render.progress",
            "from ..batch.stats import Stats\n",
            "render.progress:1: render imports deepseek_cli.batch.stats.Stats from batch, "
            "a layer above",
        ),
        (
            "batch.job",
            "from deepseek_cli import chat\n",
            "batch.job:1: batch imports deepseek_cli.chat from chat, a layer above",
        ),
        ("tools_mcp", "import mcp\n", "tools_mcp: not in a known layer (add its folder to LAYERS)"),
    ],
)
def test_the_checker_reports_an_upward_or_misplaced_import(module, source, expected):
    is_package = False
    assert violations({module: (source, is_package)}) == [expected]


def test_the_checker_accepts_downward_and_own_package_imports():
    modules = {
        "cli.ask": ("import typer\nfrom deepseek_cli.chat.turn import run\n", False),
        "chat.turn": ("from deepseek_cli.render import stderr\nfrom . import retries\n", False),
        "render.live": ("from rich.live import Live\nfrom deepseek_cli import events\n", False),
        "backends.openai_compat": ("import openai\nimport socket\n", False),
        "batch.remote.fetch": ("from deepseek_cli.batch import records\n", False),
    }
    assert violations(modules) == []
