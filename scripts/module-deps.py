#!/usr/bin/env python3
"""Fails on an import cycle between the server's top-level modules, or on a layer importing one
it must not (storage and domain never import http; domain never imports storage).

A module's imports are the `crate::<module>` paths in its files (and `super::<module>` in the
files directly under `src/`, where `super` is the crate root), comments left out. Usage:

    scripts/module-deps.py [SRC_DIR]     # default: server/src
    scripts/module-deps.py --self-test   # shows that a cycle and a forbidden import are caught
"""

import os
import re
import sys
import tempfile

# (importer, imported) pairs that are refused whatever else holds.
FORBIDDEN = [("storage", "http"), ("domain", "http"), ("domain", "storage")]

PATH = re.compile(r"\$?crate::(\w+)|\$?crate::\{([^}]*)\}")
SUPER = re.compile(r"\bsuper::(\w+)|\bsuper::\{([^}]*)\}")
COMMENT = re.compile(r"//[^\n]*")


def modules(src):
    """Top-level module name -> its source files."""
    found = {}
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
            found.setdefault(entry[:-3], []).append(path)
        elif os.path.isdir(path):
            files = found.setdefault(entry, [])
            for folder, _, names in os.walk(path):
                files += [os.path.join(folder, n) for n in names if n.endswith(".rs")]
    return found


def named(match):
    """Module names of a `crate::x` or `crate::{x, y::z}` match."""
    single, group = match.groups()
    if single:
        return [single]
    return [part.strip().split("::")[0] for part in group.split(",") if part.strip()]


def graph(src):
    mods = modules(src)
    edges = {m: set() for m in mods}
    for mod, files in mods.items():
        for path in files:
            with open(path, encoding="utf-8") as f:
                text = COMMENT.sub("", f.read())
            names = [n for m in PATH.finditer(text) for n in named(m)]
            top_file = os.path.dirname(path) == src or path == os.path.join(src, mod, "mod.rs")
            if top_file:
                names += [n for m in SUPER.finditer(text) for n in named(m)]
            edges[mod].update(n for n in names if n in mods and n != mod)
    return edges


def cycles(edges):
    """Every strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def problems(src):
    edges = graph(src)
    out = []
    for component in cycles(edges):
        links = [f"{a} -> {b}" for a in component for b in sorted(edges[a]) if b in component]
        out.append(f"import cycle between {', '.join(component)}: {'; '.join(links)}")
    for a, b in FORBIDDEN:
        if b in edges.get(a, ()):
            out.append(f"{a} imports {b}, which it must not")
    return out


def self_test():
    """A crate with a cycle and a forbidden import must be refused; without them, accepted."""
    with tempfile.TemporaryDirectory() as src:
        os.makedirs(os.path.join(src, "storage"))
        files = {
            "state.rs": "use crate::http::metrics::Metrics;\n",
            "http.rs": "// crate::storage in a comment is no import\nuse crate::{state::AppState};\n",
            "storage/mod.rs": "pub mod keys;\n",
            "storage/keys.rs": "fn f() { crate::http::x(); }\n",
            "domain.rs": "use super::model;\n",
            "model.rs": "",
        }
        for name, text in files.items():
            with open(os.path.join(src, name), "w", encoding="utf-8") as f:
                f.write(text)
        found = problems(src)
        want = [
            "import cycle between http, state: http -> state; state -> http",
            "storage imports http, which it must not",
        ]
        if found != want:
            sys.exit(f"self-test: expected {want}, found {found}")
        os.remove(os.path.join(src, "state.rs"))
        os.remove(os.path.join(src, "storage", "keys.rs"))
        if problems(src):
            sys.exit(f"self-test: a clean crate was refused: {problems(src)}")
    print("module check self-test: a cycle and a forbidden import are caught")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    src = sys.argv[1] if len(sys.argv) > 1 else "server/src"
    found = problems(src)
    if found:
        sys.exit("\n".join(found))
    print(f"no import cycles between the top-level modules of {src}")


if __name__ == "__main__":
    main()
