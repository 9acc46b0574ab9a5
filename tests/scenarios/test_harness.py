"""The harness itself: a broken scenario fails fast with file, scenario and field, before any warehouse build."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from .harness import LIBRARY_DIR, build_company
from .schema import ScenarioError, load_library, read_scenario_file

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
    assert {row[1] for _, row in fx_rows} == {"USD", "EUR", "GBP", "JPY", "CAD"}
    assert all(row[2] > Decimal(0) for _, row in fx_rows)
