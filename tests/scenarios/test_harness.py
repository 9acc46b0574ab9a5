"""The harness itself: a broken scenario or plan example fails fast with file, scenario and field, before any
warehouse build."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from .harness import LIBRARY_DIR, build_company
from .plan_examples import PLANS_DIR, load_plan_examples
from .schema import (
    LIBRARY_HORIZON,
    PLAN_EXAMPLES_HORIZON,
    Horizon,
    ScenarioError,
    load_library,
    read_scenario_file,
    read_yaml,
)

BASE = (LIBRARY_DIR / "s01_owner_credit.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, change, name: str = "s01_owner_credit.yaml") -> Path:
    data = yaml.safe_load(BASE)
    change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["deals"][0].update(owner="nobody"), "s01_owner_credit: deals.0.owner: unknown CRM user 'nobody'"),
        (lambda d: d["deals"][0].update(amount="ten"), "deals.0.amount: Input should be a valid decimal"),
        (lambda d: d["plans"][0]["tiers"][0].update(rate=2), "s01_owner_credit: plans.0: tiers.0.rate"),
        (lambda d: d["plans"][0].update(plan_id="ae"), "plans.0.plan_id: must start with the scenario key 's01_'"),
        (lambda d: d["employees"][0].pop("quota"), "employees.0.quota: a plan participant needs quota rows"),
        (lambda d: d["expected"]["payouts"][0].update(net=801), "expected.payouts.0: Value error, by_type sums to 800"),
        (lambda d: d["deals"][1].update(close_date=date(2026, 1, 5)), "deals.1: close date and knowledge time"),
        (lambda d: d["expected"]["lines"][0].update(month="2025-07"), "expected.lines.0: the line's (employee, month)"),
    ],
    ids=[
        "unknown_owner",
        "bad_decimal",
        "invalid_plan",
        "plan_id_not_namespaced",
        "participant_without_quota",
        "by_type_not_adding_up",
        "event_outside_2025",
        "line_month_not_listed",
    ],
)
def test_invalid_scenario_names_file_scenario_and_field(tmp_path: Path, change, message: str) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(ScenarioError) as excinfo:
        read_scenario_file(path)
    assert f"{path.name}: " in str(excinfo.value)
    assert message.replace("Value error, ", "") in str(excinfo.value).replace("Value error, ", "")


def test_two_scenarios_overriding_one_fx_day_differently_is_an_error(tmp_path: Path) -> None:
    def fx(rate: str, sid: str):
        def change(d):
            d["id"] = sid
            d["plans"][0]["plan_id"] = f"{sid[:3]}_ae"
            d["employees"][0]["plan"] = f"{sid[:3]}_ae"
            d["fx"] = [{"currency": "EUR", "date": date(2025, 7, 10), "rate": rate}]

        return change

    a = read_scenario_file(_write(tmp_path, fx("1.08", "s90_a"), "a.yaml"))
    b = read_scenario_file(_write(tmp_path, fx("1.09", "s91_b"), "b.yaml"))
    same = read_scenario_file(_write(tmp_path, fx("1.08", "s92_c"), "c.yaml"))
    build_company(a + same)  # the same rate twice is fine
    with pytest.raises(ScenarioError, match=r"s91_b: fx: EUR on 2025-07-10 is 1.09 here but 1.08 in s90_a"):
        build_company(a + b)


def test_library_keys_are_unique(tmp_path: Path) -> None:
    _write(tmp_path, lambda d: None, "one.yaml")
    _write(tmp_path, lambda d: d.update(id="s01_again"), "two.yaml")
    with pytest.raises(ScenarioError, match=r"key 's01' already used in one.yaml"):
        load_library(tmp_path)


def test_every_id_is_prefixed_with_the_scenario_key() -> None:
    """Scenarios share one warehouse: every landed id must carry its scenario's key."""
    scenarios = load_library(LIBRARY_DIR)
    company = build_company(scenarios)
    keys = {s.key for s in scenarios}
    id_columns = {
        "crm__users": [0],
        "crm__accounts": [0, 4],
        "crm__opportunities": [0, 1, 2],
        "crm__opportunity_splits": [0, 1, 2],
        "hr__workers": [0, 1, 4],
        "hr__leaves": [0, 1],
        "billing__customers": [0, 1],
        "billing__subscriptions": [0, 1, 2],
        "billing__invoices": [0, 1, 2, 3],
        "salesops__quotas": [0],
    }
    for entity, columns in id_columns.items():
        for _, row in company.rows.get(entity, []):
            for i in columns:
                if row[i] is not None:
                    assert str(row[i]).split("_", 1)[0] in keys, (entity, row)
    for assignment in company.assignments:
        assert assignment["match"]["employee_id"].split("_", 1)[0] in keys
    assert all(name.split("_", 1)[0] in keys for name in company.plans)
    fx_rows = company.rows["fx__rates"]
    assert {row[1] for _, row in fx_rows} == {"USD", "EUR", "GBP", "JPY", "CAD", "IDR", "VND"}
    assert all(row[2] > Decimal(0) for _, row in fx_rows)


# ------------------------------------------------------------------------------------ plan-file examples


def _plan_copy(tmp_path: Path, name: str, change) -> Path:
    """A copy of one repository plan file (with its examples) in its own folder, changed by `change`."""
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    data = yaml.safe_load((PLANS_DIR / name).read_text(encoding="utf-8"))
    change(data)
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def _first_example(change):
    return lambda d: change(d["examples"][0])


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (
            "ae.v2.yaml",
            _first_example(lambda e: e["deals"][0].update(close_date=date(2026, 7, 3))),
            "ae.v2.yaml: examples.0 (below_threshold_pays_nothing): deals.0: close date and knowledge time must lie "
            "inside 2026-01-01..2026-06-30",
        ),
        (
            "ae.v1.yaml",
            _first_example(lambda e: e["employees"][0].update(plan="sales_manager")),
            "ae.v1.yaml: examples.0 (accelerators_then_payout_cap): employees.0.plan: 'sales_manager'",
        ),
        (
            "ae.v1.yaml",
            _first_example(lambda e: e.update(plans=[])),
            "ae.v1.yaml: examples.0 (accelerators_then_payout_cap): plans: Extra inputs are not permitted",
        ),
        (
            "ae.v1.yaml",
            _first_example(lambda e: e["deals"][0].update(owner="nobody")),
            "ae.v1.yaml: examples.0 (accelerators_then_payout_cap): deals.0.owner: unknown CRM user 'nobody'",
        ),
        (
            "ae.v1.yaml",
            lambda d: d["examples"].append(dict(d["examples"][0])),
            "ae.v1.yaml: examples.1 (accelerators_then_payout_cap): id: duplicate example id",
        ),
        (
            "sales_manager.v1.yaml",
            _first_example(lambda e: e["employees"][1].pop("plan")),
            "employees.1.quota: a plan participant needs quota rows",
        ),
    ],
    ids=["outside_effective_range", "other_plan", "plans_block", "unknown_owner", "duplicate_id", "rep_on_plan"],
)
def test_invalid_plan_example_names_file_example_and_field(tmp_path: Path, name: str, change, message: str) -> None:
    """A rep without `plan: null` is on the manager plan and so needs a quota: the default is "on this plan"."""
    with pytest.raises(ScenarioError) as excinfo:
        load_plan_examples(_plan_copy(tmp_path, name, change))
    assert message in str(excinfo.value)


def test_plan_example_runs_on_a_renamed_copy_of_its_plan() -> None:
    """Each example gets its own plan id (so v1, v2 and v3 of one plan never meet in one plans folder), every
    other field of the plan file unchanged; employees are assigned for the version's effective range."""
    cases = load_plan_examples()
    assert [c.scenario.key for c in cases] == [f"x{n:03d}" for n in range(1, len(cases) + 1)]
    company = build_company([c.scenario for c in cases], PLAN_EXAMPLES_HORIZON)
    for case in cases:
        original = read_yaml(PLANS_DIR / case.plan_file)
        written = company.plans[f"{case.scenario.key}_{case.plan.plan_id}.v{case.plan.version}.yaml"]
        assert written == {**{k: v for k, v in original.items() if k != "examples"}, "plan_id": written["plan_id"]}
        assert written["plan_id"] == f"{case.scenario.key}_{case.plan.plan_id}"
    by_employee = {a["match"]["employee_id"]: a for a in company.assignments}
    ae_v2 = next(c for c in cases if c.plan_file == "ae.v2.yaml")
    assignment = by_employee[ae_v2.scenario.gid("rep")]
    assert (assignment["effective_from"], assignment["effective_to"]) == (date(2026, 1, 1), date(2026, 6, 30))
    manager = next(c for c in cases if c.plan_file == "sales_manager.v1.yaml").scenario
    assert manager.gid("rep_a") not in by_employee  # `plan: null`: feeds the manager, is on no plan


def test_horizon_is_a_parameter_of_the_company() -> None:
    scenarios = load_library(LIBRARY_DIR)
    with pytest.raises(ScenarioError, match="whole calendar years"):
        build_company(scenarios, Horizon(date(2025, 1, 1), date(2025, 6, 30)))
    for horizon, fx_first, fx_last in [
        (LIBRARY_HORIZON, date(2024, 12, 1), date(2026, 1, 31)),
        (PLAN_EXAMPLES_HORIZON, date(2024, 12, 1), date(2027, 1, 31)),
    ]:
        company = build_company(scenarios, horizon)
        quota_months = sorted({row[2] for _, row in company.rows["salesops__quotas"] if row[1] == "month"})
        assert (quota_months[0], quota_months[-1]) == (horizon.start, horizon.end.replace(day=1))
        fx_days = sorted({row[0] for _, row in company.rows["fx__rates"]})
        assert (fx_days[0], fx_days[-1]) == (fx_first, fx_last)
