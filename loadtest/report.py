"""Locust's CSV statistics, read and printed as the load test's report."""

import csv
from dataclasses import dataclass
from pathlib import Path

from loadtest.plan import DISPATCH_TO_RECEIPT, PIPELINE, POLL_INTERVAL, Endpoint


@dataclass(frozen=True)
class Stats:
    """One row of locust's `<prefix>_stats.csv`: a request type and name over a phase."""

    requests: int
    failures: int
    per_second: float
    p50: float
    p95: float
    p99: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def read_stats(path: Path) -> dict[tuple[str, str], Stats]:
    """(type, name) -> Stats; the "Aggregated" row left out. Missing file: no rows."""
    if not path.exists():
        return {}
    with path.open(newline="") as file:
        return {
            (row["Type"], row["Name"]): Stats(
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                per_second=float(row["Requests/s"]),
                p50=_milliseconds(row["50%"]),
                p95=_milliseconds(row["95%"]),
                p99=_milliseconds(row["99%"]),
            )
            for row in csv.DictReader(file)
            if row["Name"] != "Aggregated"
        }


@dataclass(frozen=True)
class Failure:
    """One row of locust's `<prefix>_failures.csv`."""

    label: str
    error: str
    occurrences: int


def read_failures(path: Path) -> list[Failure]:
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return [
            Failure(f"{row['Method']} {row['Name']}", row["Error"], int(row["Occurrences"]))
            for row in csv.DictReader(file)
        ]


def failure_lines(failures: list[Failure], most: int = 8) -> list[str]:
    ranked = sorted(failures, key=lambda failure: -failure.occurrences)
    return [
        f"    {failure.occurrences} times {failure.label}: {failure.error[:160]}"
        for failure in ranked[:most]
    ]


@dataclass(frozen=True)
class Phase:
    """What locust wrote for one phase: `<prefix>_stats.csv` and `<prefix>_failures.csv`."""

    rows: dict[tuple[str, str], Stats]
    failures: list[Failure]


def read_phase(prefix: Path) -> Phase:
    return Phase(
        read_stats(prefix.with_name(f"{prefix.name}_stats.csv")),
        read_failures(prefix.with_name(f"{prefix.name}_failures.csv")),
    )


def _milliseconds(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def endpoint_stats(rows: dict[tuple[str, str], Stats], endpoint: Endpoint) -> Stats | None:
    return rows.get((endpoint.method, endpoint.name))


def http_rows(rows: dict[tuple[str, str], Stats]) -> dict[tuple[str, str], Stats]:
    return {key: stats for key, stats in rows.items() if key[0] != PIPELINE}


def pipeline_stats(rows: dict[tuple[str, str], Stats]) -> Stats | None:
    return rows.get((PIPELINE, DISPATCH_TO_RECEIPT))


def ratio(numerator: float, denominator: float) -> str:
    if not denominator:
        return "n/a"
    value = numerator / denominator
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3f}x"


LATENCY_HEADER = f"{'p50':>7} {'p95':>7} {'p99':>7} ms"


def _latencies(stats: Stats) -> str:
    return f"{stats.p50:7.0f} {stats.p95:7.0f} {stats.p99:7.0f}   "


def _errors(stats: Stats) -> str:
    return f"{stats.failures}/{stats.requests} ({stats.error_rate:.1%})"


def capacity_table(yardstick: Stats, measured: list[tuple[Endpoint, Stats | None]]) -> list[str]:
    """Each endpoint's calls per second alone, and as a ratio to the yardstick's."""
    lines = [
        f"  {'endpoint':40} {'req/s':>7} {'÷ bare':>7} {LATENCY_HEADER}  errors",
        f"  {'POST /api/v1/loadtest/bare (yardstick)':40} {yardstick.per_second:7.1f} "
        f"{'1.00x':>7} {_latencies(yardstick)} {_errors(yardstick)}",
    ]
    for endpoint, stats in measured:
        if stats is None:
            lines.append(f"  {endpoint.label:40} no calls made")
            continue
        lines.append(
            f"  {endpoint.label:40} {stats.per_second:7.1f} "
            f"{ratio(stats.per_second, yardstick.per_second):>7} {_latencies(stats)} "
            f"{_errors(stats)}"
        )
    return lines


def mix_table(rows: dict[tuple[str, str], Stats]) -> list[str]:
    """Every HTTP call of the mix, busiest first, then the error rate over all of them."""
    calls = sorted(http_rows(rows).items(), key=lambda item: -item[1].requests)
    lines = [f"  {'endpoint':40} {'calls':>7} {'req/s':>7} {LATENCY_HEADER}  errors"]
    for (method, name), stats in calls:
        lines.append(
            f"  {method + ' ' + name:40} {stats.requests:7d} {stats.per_second:7.1f} "
            f"{_latencies(stats)} {_errors(stats)}"
        )
    requests = sum(stats.requests for _, stats in calls)
    failures = sum(stats.failures for _, stats in calls)
    rate = failures / requests if requests else 0.0
    lines.append(f"  error rate over all calls: {failures}/{requests} = {rate:.2%}")
    return lines


def pipeline_line(stats: Stats | None) -> str:
    if stats is None or not stats.requests:
        return "  dispatch → receipt: no dispatch reached its receipt during the mix"
    done = stats.requests - stats.failures
    seconds = {name: getattr(stats, name) / 1000 for name in ("p50", "p95", "p99")}
    return (
        f"  dispatch → receipt (agents polling every {POLL_INTERVAL:g} s): "
        + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
        + f"; {done} completed with their receipt ({stats.per_second * done / stats.requests:.1f}"
        f"/s), {stats.failures} did not"
    )
