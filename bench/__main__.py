"""Run every benchmark (or the ones named on the command line): `python -m bench [name ...]`."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import sys

import bench


def main(argv: list[str]) -> int:
    names = sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")
    )
    wanted = [name if name.startswith("bench_") else f"bench_{name}" for name in argv]
    unknown = [name for name in wanted if name not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}")
        return 2
    missed = []
    for name in wanted or names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        result = module.main()
        if inspect.isawaitable(result):
            result = asyncio.run(result)  # type: ignore[arg-type]
        if result:
            missed.append(name)  # the others still run: one missed target hides no figures
    if missed:
        print(f"missed or failed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
