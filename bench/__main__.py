"""``python -m bench [--quick] [NAME ...]``: run the benchmarks, print numbers and PASS/MISS.

Exit status 0 when every benchmark ran (a MISS is a finding, not a failure), 1 when one
crashed. ``--quick`` runs each with small counts (a smoke test, not numbers to quote).
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import platform
import sys
import time
import traceback

from . import BENCHMARKS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small counts: checks the scripts still run")
    parser.add_argument("--profile", action="store_true",
                        help="benchmarks that support it also sample where the CPU goes (bench/_profile.py)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.ERROR)
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs"
          f"{' (quick run)' if args.quick else ''}", flush=True)
    reports, crashed = [], []
    started = time.perf_counter()
    for name in args.names or BENCHMARKS:
        print(f"\n== {name} ==", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            extra = {"profile": True} if args.profile and "profile" in inspect.signature(module.run).parameters else {}
            reports.append(module.run(quick=args.quick, **extra))
        except Exception:  # noqa: BLE001 - report the crash, go on with the other benchmarks
            traceback.print_exc()
            crashed.append(name)
        print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"\n== summary ({time.perf_counter() - started:.0f} s) ==")
    for report in reports:
        for check in report.checks:
            print(f"{report.name}:{check.line()}")
    for name in crashed:
        print(f"{name}: CRASHED")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
