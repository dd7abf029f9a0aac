"""The ``fastlin bench complexity`` command, apart from its argument parsing.

:func:`prepare_job` checks every input before any measurement (sizes, output paths, matplotlib,
threads, memory) and raises ``ValueError``/``ImportError`` with the message to show;
:func:`run_job` runs the sweep; :func:`publish` prints the table and writes the files.
:mod:`fastlin.cli` maps these to exit codes and terminal output.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from .memory import check_memory
from .output import check_writable, write_json
from .plan import PRESETS, Plan, parse_sizes
from .plot import check_plot_path, write_plot
from .runner import run
from .text import format_report

__all__ = ["Job", "prepare_job", "banner", "run_job", "publish", "replot"]


@dataclass(frozen=True)
class Job:
    """A checked ``fastlin bench complexity`` invocation.

    Attributes
    ----------
    plan : Plan
    dtype : {"float64", "float32"}
    seed : int
    threads : int
    json_path, plot_path : str or None
        Absolute output paths, checked writable.
    started : float
        ``time.perf_counter()`` when the checks passed (for ``wall_seconds_before_output``).
    """

    plan: Plan
    dtype: str
    seed: int
    threads: int
    json_path: str | None
    plot_path: str | None
    started: float = field(default_factory=time.perf_counter)


def prepare_job(*, preset, sizes, json_path, plot_path, dtype, seed, threads) -> Job:
    """Check every input of the command before any work; return the :class:`Job`.

    Parameters
    ----------
    preset : str
        A key of :data:`~fastlin.report.plan.PRESETS`.
    sizes : list of str
        ``--sizes`` items (:func:`~fastlin.report.plan.parse_sizes`).
    json_path, plot_path : str or None
    dtype : {"float64", "float32"}
    seed, threads : int

    Raises
    ------
    ValueError
        Malformed sizes, an unwritable path, an unknown image format, negative threads, or a
        sweep that would not fit in memory (:class:`~fastlin.report.memory.SweepTooLarge`).
    ImportError
        ``plot_path`` given without matplotlib.
    """
    plan = parse_sizes(sizes, PRESETS[preset])
    json_path = check_writable(json_path, "--json") if json_path else None
    plot_path = check_writable(plot_path, "--plot") if plot_path else None
    if plot_path:
        check_plot_path(plot_path)
    itemsize = 4 if dtype == "float32" else 8
    if threads < 0:
        raise ValueError(f"--threads must be >= 0, got {threads}.")
    check_memory(plan, itemsize)
    return Job(plan, dtype, seed, threads, json_path, plot_path)


def banner(job: Job) -> str:
    """The line announcing the run (preset, dtype, seed, threads, regime)."""
    if job.plan.name in ("quick", "full"):
        regime = "sizes in each step's asymptotic regime (see the report)"
    else:
        regime = "custom sizes, not checked to be in the asymptotic regime"
    return (f"fastlin bench complexity: preset {job.plan.name}, {job.dtype}, seed {job.seed}, "
            f"{job.threads or 'default'} BLAS thread(s); {regime}; every point a median after "
            "warm-up.")


def run_job(job: Job, progress=None, log=None) -> dict:
    """Run the job's sweep (memory already checked); return the report document."""
    report = run(job.plan, dtype=job.dtype, seed=job.seed, threads=job.threads,
                 progress=progress, log=log, check_mem=False)
    report["machine"]["run"]["wall_seconds_before_output"] = time.perf_counter() - job.started
    return report


def publish(report: dict, job: Job, echo=print) -> None:
    """Show the table, then write the JSON and the plot, each announced through ``echo``."""
    echo(format_report(report))
    if job.json_path:
        write_json(report, job.json_path)
        echo(f"JSON written to {job.json_path}")
    if job.plot_path:
        write_plot(report, job.plot_path)
        echo(f"plot written to {job.plot_path}")


def replot(json_path: str, plot_path: str | None, echo=print) -> None:
    """Redraw the plot of a saved report (``--replot JSON --plot PATH``), measuring nothing.

    Raises
    ------
    ValueError
        No ``plot_path``, an unwritable plot path or unknown format, or a file that is not a
        report written by ``--json``.
    ImportError
        Without matplotlib.
    """
    if not plot_path:
        raise ValueError("--replot needs --plot PATH (the image to write).")
    plot_path = check_plot_path(check_writable(plot_path, "--plot"))
    try:
        with open(json_path, encoding="utf-8") as fh:
            report = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ValueError(f"--replot {json_path!r}: cannot read a JSON report ({exc}).") from None
    if not isinstance(report, dict) or not {"machine", "series", "crossover"} <= set(report):
        raise ValueError(f"--replot {json_path!r} is not a report written by --json.")
    write_plot(report, plot_path)
    echo(f"plot written to {plot_path}")
