"""The benchmark harness (orchestration/benchmark.py): target maths, rendering, and (slow) a smoke run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from orchestration import benchmark as bench

GIB = 1024**3


def _result(**steps: dict) -> dict:
    defaults = {
        "backfill": {"status": "ok", "seconds": 400.0, "peak_rss_bytes": 3 * GIB},
        "close": {"status": "ok", "seconds": 150.0, "peak_rss_bytes": 9 * GIB},
        "nightly": {"status": "ok", "seconds": 75.0, "peak_rss_bytes": 2 * GIB},
        "overhead": {"status": "ok", "seconds": 12.0, "fixed_overhead_seconds": 15.0},
        "floor": {"status": "ok", "seconds": 50.0},
    }
    defaults.update(steps)
    return {"steps": defaults}


def _by_key(targets: list[dict]) -> dict[str, dict]:
    return {t["key"]: t for t in targets}


def test_targets_met_and_missed_by_how_much() -> None:
    t = _by_key(bench.evaluate_targets(_result()))
    close = t["month_close_seconds"]
    assert (close["value"], close["met"], close["margin"], close["ratio"]) == (150.0, True, -30.0, 0.833)
    nightly = t["nightly_seconds"]
    assert (nightly["met"], nightly["margin"], nightly["ratio"]) == (False, 15.0, 1.25)
    # peak memory is the highest of the three pipeline steps
    memory = t["peak_rss_bytes"]
    assert (memory["value"], memory["met"], memory["margin"]) == (9 * GIB, False, GIB)
    # a strict limit: exactly at the limit is a miss
    overhead = t["fixed_overhead_seconds"]
    assert (overhead["met"], overhead["margin"]) == (False, 0.0)
    # an inclusive limit: 150 / 50 = 3.0x the floor is still met
    ratio = t["close_vs_floor"]
    assert (ratio["value"], ratio["met"], ratio["margin"]) == (3.0, True, 0.0)


def test_targets_not_measured_when_a_step_failed_or_is_missing() -> None:
    result = _result(close={"status": "failed", "seconds": 10.0, "peak_rss_bytes": 1})
    del result["steps"]["floor"]
    t = _by_key(bench.evaluate_targets(result))
    assert t["month_close_seconds"]["met"] is None
    assert t["close_vs_floor"]["value"] is None
    assert t["peak_rss_bytes"]["value"] is None  # not every pipeline step finished
    assert t["nightly_seconds"]["met"] is False


def test_verdict_wording() -> None:
    t = _by_key(bench.evaluate_targets(_result()))
    assert bench.format_verdict(t["month_close_seconds"]) == "met (30.0 s to spare, 0.83 of the limit)"
    assert bench.format_verdict(t["nightly_seconds"]) == "**missed** by 15.0 s (1.25x the limit)"
    assert bench.format_verdict(t["peak_rss_bytes"]) == "**missed** by 1.00 GiB (1.12x the limit)"
    assert bench.format_verdict(t["close_vs_floor"]) == "met (0.00x to spare, 1.00 of the limit)"
    assert bench.format_verdict({**t["close_vs_floor"], "met": None}) == "not measured"


def _size_result(name: str, months_override: bool = False) -> dict:
    result = _result()
    result["steps"]["close"].update(
        {
            "command": "spm close 2026-12",
            "sql_seconds": 80.0,
            "sql_model_seconds": 70.0,
            "sql_test_seconds": 10.0,
            "loader_seconds": 20.0,
            "publication_seconds": 15.0,
            "dbt_overhead_seconds": 25.0,
            "startup_seconds": 8.0,
            "overhead_seconds": 35.0,
            "dbt_nodes": 192,
            "load_average_at_start": [1.5, 1.2, 1.0],
            "top_models": [{"model": "int_commission_evaluation_credits", "seconds": 31.5, "rows": 123_456_789}],
        }
    )
    result["steps"]["floor"].update({"credit_lines": 1_000_123, "won_deals": 284_000, "payees": 990})
    result.update(
        {
            "size": name,
            "payees": 1_000,
            "credit_lines_per_month_target": 1_000_000,
            "months": 4 if months_override else 13,
            "months_override": months_override,
            "status": "ok",
            "calendar": bench.Calendar(13).describe(),
            "counts": {"credit_lines_per_month_mean": 1_001_234, "close_month_credit_lines": 1_000_123},
            "run": {"commit": "abc123def4567890", "date": "2026-11-26T00:00:00+00:00", "machine": {"nproc": 2}},
        }
    )
    result["targets"] = bench.evaluate_targets(result)
    return result


def test_render_markdown_tables() -> None:
    text = bench.render_markdown(
        {"schema_version": 1, "sizes": {"10k": _size_result("10k", True), "1k": _size_result("1k")}}
    )
    assert text.index("## 1k:") < text.index("## 10k:")  # sizes in their natural order
    assert "| month close end to end | < 180.0 s | 150.0 s | met (30.0 s to spare, 0.83 of the limit) |" in text
    assert "| nightly incremental | < 60.0 s | 75.0 s | **missed** by 15.0 s (1.25x the limit) |" in text
    assert "**shortened history**" in text.split("## 10k:")[1].splitlines()[0]
    assert "| int_commission_evaluation_credits | 31.50 | 123,456,789 |" in text
    assert "mean **1,001,234**" in text
    assert "Floor: 1,000,123 credit lines" in text
    assert bench.render_markdown({"sizes": {"1k": _size_result("1k")}}) == bench.render_markdown(
        {"sizes": {"1k": _size_result("1k")}}
    )


def test_render_only_keeps_every_size(tmp_path: Path) -> None:
    data = {"schema_version": bench.SCHEMA_VERSION, "sizes": {"1k": _size_result("1k"), "10k": _size_result("10k")}}
    json_path, md_path = tmp_path / "b.json", tmp_path / "b.md"
    json_path.write_text(json.dumps(data))
    assert bench.main(["--render", "--json", str(json_path), "--md", str(md_path)]) == 0
    assert json.loads(json_path.read_text())["sizes"].keys() == {"1k", "10k"}
    assert "## 1k:" in md_path.read_text() and "## 10k:" in md_path.read_text()


def test_calendar_keeps_the_close_month_and_shortens_the_history() -> None:
    full, short = bench.Calendar(13), bench.Calendar(4)
    assert (full.first_month, full.backfill_last, full.close_month) == (
        date(2025, 12, 1),
        date(2026, 11, 1),
        date(2026, 12, 1),
    )
    assert (short.first_month, short.close_month, short.nightly_day) == (
        date(2026, 9, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    )


def test_landing_by_period(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for name in ("crm/opportunities/opportunities_2026-11.csv", "crm/opportunities/opportunities_2026-12.csv",
                 "fx/rates/rates_2025-11.parquet", "crm/opportunities/opportunities_2027-01-01.csv"):  # fmt: skip
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("x")
    landing = tmp_path / "landing"
    assert bench.land(source, landing, lambda period: period[:7] <= "2026-11") == 2
    assert sorted(p.name for p in landing.rglob("*.*")) == ["opportunities_2026-11.csv", "rates_2025-11.parquet"]
    assert bench.land(source, landing, lambda period: period[:7] <= "2026-11") == 0  # already landed


@pytest.mark.slow
def test_smoke_benchmark_end_to_end(tmp_path: Path, dbt_manifest: Path) -> None:
    """The harness at the smoke size: every step runs and is measured, and the outputs are consistent."""
    json_path, md_path = tmp_path / "benchmarks.json", tmp_path / "benchmarks.md"
    code = bench.main(
        ["--sizes", "smoke", "--data-dir", str(tmp_path / "data"), "--json", str(json_path), "--md", str(md_path)]
    )
    result = json.loads(json_path.read_text())["sizes"]["smoke"]
    assert code == 0, json.dumps(result.get("steps"), indent=1)[:4000]
    steps = result["steps"]
    assert {k: s["status"] for k, s in steps.items()} == dict.fromkeys(
        ["generate", "backfill", "close", "land_day", "nightly", "overhead", "floor"], "ok"
    )
    for name in bench.PIPELINE_STEPS:
        s = steps[name]
        assert s["peak_rss_bytes"] > 0 and s["sql_seconds"] > 0 and s["top_models"]
        assert s["loader_seconds"] > 0 and s["overhead_seconds"] > 0
    assert steps["close"]["publication_seconds"] > 0 and steps["nightly"]["publication_seconds"] == 0
    counts = result["counts"]
    assert counts["quarantined_rows"] == 0
    assert abs(counts["credit_lines_per_month_mean"] - 3_000) / 3_000 < 0.05
    # the floor computes exactly the credit lines the pipeline has for the closed month
    assert steps["floor"]["credit_lines"] == counts["close_month_credit_lines"]
    assert all(t["met"] is not None for t in result["targets"])
    assert "## smoke:" in md_path.read_text()
