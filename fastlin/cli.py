"""The ``fastlin`` command.

    fastlin bench complexity [--quick | --full] [--sizes KEY=VALUES ...] [--json PATH] [--plot PATH]
                             [--dtype float32|float64] [--seed N]
    fastlin compile          fill Numba's disk cache for every kernel, dtype and layout
    fastlin lecture [--out DIR] [--claims NAMES] [--seed S]   (the lecture's claims, measured)
    fastlin bench complexity --replot JSON --plot PATH     (redraw a saved report's plot)

Exit codes: 0 success; 2 bad input (unknown option, malformed ``--sizes``, unwritable output path,
a sweep that would not fit in memory, matplotlib missing for ``--plot``) — all reported before any
measurement starts; 1 an unexpected failure during the run. Output files are written atomically,
so a failed or interrupted run leaves no partial file.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` returns the exit code (testable)."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message}", self.format_usage())


class _UsageError(Exception):
    def __init__(self, message, usage=""):
        super().__init__(message)
        self.usage = usage


def build_parser() -> argparse.ArgumentParser:
    """The ``fastlin`` argument parser (raises instead of exiting on bad input).

    Returns
    -------
    argparse.ArgumentParser
        Parsed arguments carry ``handler``, the function that runs the chosen command.
    """
    parser = _Parser(prog="fastlin", description="fastlin command-line tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    bench = sub.add_parser("bench", help="benchmarks")
    bsub = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK", parser_class=_Parser)
    bsub.required = True
    _add_complexity(bsub)
    _add_compile(sub)
    _add_lecture(sub)
    return parser


def _add_lecture(sub) -> None:
    """The ``lecture`` subcommand: the introductory lecture's claims, measured."""
    lc = sub.add_parser(
        "lecture",
        help="check every claim of the introductory lecture with fastlin, write an HTML page",
        description=(
            "Run one small demonstration per claim of the introductory lecture (perceptron, "
            "losses, closed form, gradient descent, regularisation, logistic regression, "
            "fitting, cost), print one line per claim, and write DIR/index.html (figures "
            "embedded) and DIR/lecture.json. Exit code 0 when every claim holds, 1 otherwise, "
            "2 for bad input."),
    )
    lc.add_argument("--out", metavar="DIR", default="lecture",
                    help="output directory (default: ./lecture); created if missing")
    lc.add_argument("--claims", metavar="NAMES",
                    help="comma-separated subset, e.g. perceptron,losses (default: all)")
    lc.add_argument("--seed", type=int, default=0, help="seed of the demonstrations' data")
    lc.add_argument("--no-progress", action="store_true", help="no progress bar")
    lc.set_defaults(handler=_cmd_lecture)


def _cmd_lecture(args) -> int:
    """``fastlin lecture``: the work is in :func:`fastlin.report.lecture.lecture`."""
    # Imported here for the reason given in _cmd_complexity.
    from .report.lecture import lecture

    return lecture(args.out, args.claims, args.seed, progress=not args.no_progress)


def _add_compile(sub) -> None:
    """The ``compile`` subcommand: fill the disk cache ahead of time."""
    cp = sub.add_parser(
        "compile",
        help="compile every kernel ahead of time into Numba's disk cache",
        description=(
            "Fit each estimator family on tiny data of every dtype (float64, float32) and layout "
            "(dense, CSR), which compiles the kernels a real fit uses and writes them to Numba's "
            "disk cache. Run it once at image build time with NUMBA_CACHE_DIR set."
        ),
    )
    cp.set_defaults(handler=_cmd_compile)


def _cmd_compile(args) -> int:
    """``fastlin compile``: one line per compiled family/dtype/layout, then a summary."""
    # Imported here for the reason given in _cmd_complexity.
    from .report import compile as aot

    return EXIT_OK if aot.run(echo=print) == 0 else EXIT_FAILURE


def _add_complexity(bsub) -> None:
    """The ``bench complexity`` subcommand and its options."""
    cx = bsub.add_parser(
        "complexity",
        help="measure the closed form's O(D^3 + D^2 N) against SGD as N and D grow",
        description=(
            "Time the closed form (Gram accumulation + Cholesky solve) and SGD (one epoch; epochs "
            "to a relative objective gap) over sweeps of N and D, fit log-log exponents against "
            "theory, compare to this machine's GEMM and streaming-read peaks, and find where SGD "
            "becomes cheaper than the closed form."
        ),
    )
    # The preset names are spelled out rather than read from fastlin.report.PRESETS, so that
    # building the parser (and `--help`) does not import the report's numerical stack.
    size = cx.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="preset", action="store_const", const="quick",
                      help="the default: under 2 minutes on a 2-core machine")
    size.add_argument("--full", dest="preset", action="store_const", const="full",
                      help="larger, denser sweeps with more repeats (minutes)")
    cx.add_argument("--sizes", nargs="+", metavar="KEY=VALUES", default=[],
                    help="override sizes of the preset: N=8k,16k,32k fixed_D=256 (the N-sweep), "
                         "N_extra=1000,2000 (small N, crossover only), D=400,800,1600 "
                         "fixed_N=4000 (the D-sweep), chol=2000,4000 (Cholesky), cross_D=4,16,64 "
                         "cross_N=20000 (crossover along D), repeats=5; also tol, alpha, "
                         "max_epochs, tol_repeats, gemm, stream_mb. The estimate of the memory "
                         "needed is checked first.")
    cx.add_argument("--json", metavar="PATH", help="write the report as JSON")
    cx.add_argument("--plot", metavar="PATH", help="write a log-log plot (needs matplotlib)")
    cx.add_argument("--replot", metavar="JSON",
                    help="measure nothing: redraw --plot PATH from a report saved with --json")
    cx.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="dtype of X")
    cx.add_argument("--seed", type=int, default=0, help="seed of the data and SGD shuffles")
    cx.add_argument("--threads", type=int, default=1, metavar="N",
                    help="BLAS/LAPACK threads during the run (default 1: per-core costs, "
                         "like-for-like with the single-threaded SGD kernel and robust on a "
                         "shared machine; 0: the library default)")
    cx.add_argument("--no-progress", action="store_true", help="no progress bar")
    cx.set_defaults(preset="quick", handler=_cmd_complexity)


def _progress_bar(total, enabled):
    """A tqdm bar if tqdm is installed and wanted; otherwise a no-op. Returns (callback, close)."""
    if not enabled:
        return None, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, lambda: None
    bar = tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True, leave=False)

    def callback(n, desc):
        if desc:
            bar.set_description(desc, refresh=False)
        bar.update(n)

    return callback, bar.close


def _cmd_complexity(args) -> int:
    """``fastlin bench complexity``: check everything, run, print the table, write the files."""
    # Imported here, not at the top: fastlin.report pulls in numba, scipy and the kernels, which
    # `fastlin --help` and argparse's usage errors should not wait for.
    from . import report

    if args.replot:
        return _cmd_replot(args)
    try:
        job = report.prepare_job(preset=args.preset, sizes=args.sizes, json_path=args.json,
                                 plot_path=args.plot, dtype=args.dtype, seed=args.seed,
                                 threads=args.threads)
    except (ValueError, ImportError) as exc:
        print(f"fastlin bench complexity: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    print(report.banner(job), file=sys.stderr)
    callback, close = _progress_bar(report.total_units(job.plan), not args.no_progress)

    def log(msg):
        # Stage messages only without a bar: printing would break the bar's line.
        if callback is None:
            print(f"  {msg}", file=sys.stderr)

    try:
        doc = report.run_job(job, progress=callback, log=log)
    finally:
        close()
    report.publish(doc, job, echo=print)
    return EXIT_OK


def _cmd_replot(args) -> int:
    """``fastlin bench complexity --replot JSON --plot PATH``: the figure of a saved report."""
    from .report.command import replot

    try:
        if args.json:
            raise ValueError("--replot reads a report; it cannot be combined with --json.")
        replot(args.replot, args.plot)
    except (ValueError, ImportError) as exc:
        print(f"fastlin bench complexity: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def main(argv=None) -> int:
    """Entry point of the ``fastlin`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc.usage, end="", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("fastlin: interrupted; no output file was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
