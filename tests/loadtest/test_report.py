"""What `make loadtest` prints, from locust's CSV files; and the environment it deploys."""

from loadtest import report
from loadtest.plan import ACCEPT, ALONE_BEFORE_THE_MIX, DISPATCH_TO_RECEIPT
from loadtest.run import RAISED_RATE_LIMITS, deployment_environment
from tests.core.test_settings import run_manage

COLUMNS = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)
FAILURE_COLUMNS = "Method,Name,Error,Occurrences,First Seen,Last Seen"


def locust_wrote(tmp_path, name: str, rows: list[str], failures: list[str] = ()):
    prefix = tmp_path / name
    (tmp_path / f"{name}_stats.csv").write_text("\n".join([COLUMNS, *rows]) + "\n")
    (tmp_path / f"{name}_failures.csv").write_text("\n".join([FAILURE_COLUMNS, *failures]))
    return report.read_phase(prefix)


def row(kind: str, name: str, calls: int, failed: int, rate: float, p50, p95, p99) -> str:
    return (
        f"{kind},{name},{calls},{failed},{p50},1,1,1,1,{rate},0,{p50},0,0,0,0,{p95},0,{p99},0,0,0"
    )


def test_each_endpoint_alone_is_reported_as_a_ratio_to_the_yardstick(tmp_path):
    bare = locust_wrote(
        tmp_path, "BareOnly", [row("POST", "/api/v1/loadtest/bare", 400, 0, 80.0, 90, 200, 300)]
    )
    dispatch = locust_wrote(
        tmp_path,
        "DispatchOnly",
        [row("POST", "/api/v1/dispatches", 100, 1, 20.0, 700, 900, 1200)],
        ["POST,/api/v1/dispatches,LocustBadStatusCode(code=500),1,,"],
    )
    yardstick = next(iter(bare.rows.values()))

    lines = report.capacity_table(
        yardstick,
        [(ACCEPT, report.endpoint_stats(dispatch.rows, ACCEPT)), (ALONE_BEFORE_THE_MIX[0], None)],
    )

    accept = next(line for line in lines if "POST /api/v1/dispatches" in line)
    assert accept.split()[2:9] == ["20.0", "0.25x", "700", "900", "1200", "1/100", "(1.0%)"]
    assert lines[-1].split() == ["GET", "/api/v1/skills", "no", "calls", "made"]
    assert report.failure_lines(dispatch.failures) == [
        "    1 times POST /api/v1/dispatches: LocustBadStatusCode(code=500)"
    ]


def test_the_mix_error_rate_counts_calls_and_the_pipeline_is_reported_apart(tmp_path):
    mix = locust_wrote(
        tmp_path,
        "MixAgent",
        [
            row("GET", "/api/v1/memory", 90, 3, 2.0, 120, 300, 400),
            row("POST", "/api/v1/dispatches", 10, 1, 0.5, 700, 900, 1000),
            row("PIPELINE", DISPATCH_TO_RECEIPT, 8, 2, 0.4, 1700, 2900, 3100),
            ",Aggregated,108,6,1,1,1,1,1,3,0,1,1,1,1,1,1,1,1,1,1,1",
        ],
    )

    table = report.mix_table(mix.rows)
    pipeline = report.pipeline_line(report.pipeline_stats(mix.rows))

    assert [line.split()[1] for line in table[1:3]] == ["/api/v1/memory", "/api/v1/dispatches"]
    assert table[-1] == "  error rate over all calls: 4/100 = 4.00%"
    assert "p50 1.7 s, p95 2.9 s" in pipeline
    assert "6 completed with their receipt (0.3/s), 2 did not" in pipeline


def test_the_deployment_is_production_with_fresh_secrets_and_raised_rate_limits(tmp_path):
    first = deployment_environment("http://127.0.0.1:8000")
    second = deployment_environment("http://127.0.0.1:8000")

    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **first,
        DATABASE_URL=f"sqlite:///{tmp_path / 'loadtest.sqlite3'}",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert first["DEBUG"] == "false"
    assert first["DJANGO_SETTINGS_MODULE"] == "loadtest.settings"
    assert RAISED_RATE_LIMITS.items() <= first.items()
    for name in ("SECRET_KEY", "GERAOS_MEMORY_KEYS", "GERAOS_TRUST_KEY_SECRET"):
        assert first[name] != second[name]
