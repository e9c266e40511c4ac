#!/usr/bin/env python
"""Print the project's import cycles and its function-local imports of project modules.

Reads the source (``ast``; nothing is imported, migrations are skipped) and prints:

- the cycles between apps (an app-level graph: app A -> app B when any module of A imports one of B),
- the cycles inside each app (module-level graph restricted to that app),
- imports that go up the layer order (``LAYERS``; docs/architecture.md),
- every import of a project module made inside a function, ``# why`` comment or not.

Every import counts, whether at the top of a module or inside a function: a function-local import still
ties the two modules together. ``scripts/import_graph.py --list`` also lists the function-local imports.
The exit code is 0 whatever it finds: ``lint-imports`` (pyproject.toml) is the gate.
"""

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first; apps on one line are side by side (none imports another).
LAYERS = [
    ["core"],
    ["notifications"],
    ["accounts"],
    ["wallet"],
    ["insurance"],
    ["jobs"],
    ["matching", "disputes", "outreach"],
    ["hall"],
    ["demo"],
]
APPS = [app for layer in LAYERS for app in layer]
PACKAGES = [*APPS, "gigmarket"]
RANK = {app: i for i, layer in enumerate(LAYERS) for app in layer}
MAX_CYCLES = 100_000


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


class Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: set[str], lines: list[str]):
        self.module, self.is_package, self.modules, self.lines = module, is_package, modules, lines
        self.depth = 0
        self.imports: list[tuple[str, int, bool]] = []  # (target module, line, inside a function)

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            return  # not imported at run time
        self.generic_visit(node)

    def add(self, target: str, node):
        if target.split(".")[0] in PACKAGES:
            self.imports.append((target, node.lineno, self.depth > 0))

    def visit_Import(self, node):
        for alias in node.names:
            self.add(alias.name, node)

    def visit_ImportFrom(self, node):
        base = resolve(self.module, self.is_package, node)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self.add(sub if sub in self.modules else base, node)


def app_of(module: str) -> str:
    return module.split(".")[0]


def known(target: str, modules: set[str]) -> str | None:
    """The project module an import names (``a.b.c`` may be the attribute c of module a.b)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), only those with a cycle."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        out.append(sorted(component))
    return out


def elementary_cycles(graph: dict[str, set[str]], limit: int = MAX_CYCLES) -> list[list[str]]:
    """Every simple cycle, each reported once (started at its smallest node); stops at ``limit``."""
    found: list[list[str]] = []
    for start in sorted(graph):
        path, stack = [start], [iter(sorted(n for n in graph[start] if n >= start))]
        while stack:
            for child in stack[-1]:
                if child == start:
                    found.append(list(path))
                    if len(found) >= limit:
                        return found
                elif child not in path:
                    path.append(child)
                    stack.append(iter(sorted(n for n in graph.get(child, ()) if n >= start)))
                    break
            else:
                stack.pop()
                path.pop()
    return found


def scan() -> tuple[dict[str, set[str]], list[tuple[str, int, str, bool]]]:
    """The module graph (every import, top or function-local) and the function-local project imports as
    (file, line, module, whether the line has a comment)."""
    files = list(source_files())
    modules = {module_name(p) for p in files}
    module_graph: dict[str, set[str]] = defaultdict(set)
    local: list[tuple[str, int, str, bool]] = []
    for path in files:
        module = module_name(path)
        lines = path.read_text().splitlines()
        collector = Collector(module, path.name == "__init__.py", modules, lines)
        collector.visit(ast.parse(path.read_text(), str(path)))
        module_graph[module]
        seen: set[tuple[int, str | None]] = set()  # one per statement and module (``from x import a, b``)
        for target, lineno, in_function in collector.imports:
            found = known(target, modules)
            if found and found != module:
                module_graph[module].add(found)
            if in_function and (lineno, found) not in seen:
                seen.add((lineno, found))
                commented = "#" in lines[lineno - 1]
                local.append((path.relative_to(ROOT).as_posix(), lineno, found or target, commented))
    return module_graph, local


def function_local_imports() -> list[tuple[str, int, str, bool]]:
    return scan()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list every function-local project import")
    args = parser.parse_args(argv)

    module_graph, local = scan()
    app_graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in module_graph.items():
        app_graph[app_of(module)]
        for target in targets:
            if app_of(target) != app_of(module):
                app_graph[app_of(module)].add(app_of(target))

    # gigmarket (settings, urls, the Celery app) sits above every app and outside the layers.
    apps_only = {a: {t for t in ts if t in RANK} for a, ts in app_graph.items() if a in RANK}
    app_cycles = elementary_cycles(apps_only)
    print(f"== cycles between apps: {len(app_cycles)} (strongly connected groups: {len(sccs(apps_only))})")
    for group in sccs(apps_only):
        print("   group:", ", ".join(group))
    for cycle in app_cycles[:20]:
        print("   ", " -> ".join([*cycle, cycle[0]]))
    if len(app_cycles) > 20:
        print(f"    ... and {len(app_cycles) - 20} more")

    print("== cycles inside apps (module level)")
    total_inside = 0
    for app in PACKAGES:
        graph = {m: {t for t in ts if app_of(t) == app} for m, ts in module_graph.items() if app_of(m) == app}
        groups = sccs(graph)
        if not groups:
            continue
        cycles = elementary_cycles(graph)
        total_inside += len(cycles)
        more = "+" if len(cycles) >= MAX_CYCLES else ""
        print(f"   {app}: {len(cycles)}{more} cycles")
        for group in groups:
            print("      group:", ", ".join(m.removeprefix(app + ".") for m in group))
    print(f"   total: {total_inside}")

    print("== cycles across the whole module graph (strongly connected groups)")
    all_groups = sccs(module_graph)
    print(f"   {len(all_groups)} groups, {sum(len(g) for g in all_groups)} modules in them")
    for group in all_groups:
        print("     ", ", ".join(group))

    upward = sorted(
        (m, t)
        for m, ts in module_graph.items()
        for t in ts
        if app_of(m) in RANK
        and app_of(t) in RANK
        and RANK[app_of(t)] >= RANK[app_of(m)]
        and app_of(t) != app_of(m)
    )
    print(f"== imports up or across the layer order: {len(upward)}")
    for m, t in upward:
        print(f"   {m} -> {t}")

    sibling = [x for x in local if app_of(module_name(ROOT / x[0])) != app_of(x[2])]
    print(
        f"== function-local project imports: {len(local)} "
        f"(of another app: {len(sibling)}; with a comment on the line: {sum(x[3] for x in local)})"
    )
    if args.list:
        for file, lineno, target, commented in local:
            print(f"   {file}:{lineno} {target}{'  (commented)' if commented else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
