"""Plans as code: the repository's plans validate, and broken plan files fail naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion.plans import PlanValidationError, load_plan_bundle, load_plans

PLANS_DIR = Path(__file__).resolve().parent.parent / "plans"


@pytest.fixture
def plans_copy(tmp_path: Path) -> Path:
    target = tmp_path / "plans"
    shutil.copytree(PLANS_DIR, target)
    return target


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_repository_plans_validate_with_an_ae_and_a_manager_plan():
    bundle = load_plan_bundle(PLANS_DIR)
    plans = {p.plan_id: p for p in bundle.plans}
    assert plans["ae"].tier_method == "marginal"
    assert plans["ae"].payout_cap is not None
    assert any(t.from_attainment >= 1 and t.rate > plans["ae"].tiers[0].rate for t in plans["ae"].tiers)
    assert plans["sales_manager"].credit_types == ["team"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["tiers"][1].update(rate=1.5), "ae.v1.yaml: tiers.1.rate"),
        (
            lambda d: d["tiers"][1].update(from_attainment=1.1),
            "ae.v1.yaml: tiers.1: from_attainment 1.1 must equal",
        ),
        (lambda d: d["tiers"][-1].update(to_attainment=3), "the last tier must be open-ended"),
        (lambda d: d.update(tier_method="progressive"), "ae.v1.yaml: tier_method"),
        (lambda d: d.pop("credit_types"), "ae.v1.yaml: credit_types: Field required"),
        (lambda d: d.update(bonus_rate=0.1), "ae.v1.yaml: bonus_rate: Extra inputs are not permitted"),
        (lambda d: d.update(version=2), "ae.v1.yaml: plan_id/version: file must be named ae.v2.yaml"),
    ],
)
def test_invalid_plan_file_error_names_file_and_field(plans_copy: Path, change, expected: str):
    _edit(plans_copy / "ae.v1.yaml", change)
    with pytest.raises(PlanValidationError) as excinfo:
        load_plan_bundle(plans_copy)
    assert expected in str(excinfo.value)


def test_assignment_to_unknown_plan_is_rejected(plans_copy: Path):
    _edit(plans_copy / "assignments.yaml", lambda d: d["assignments"][0].update(plan_id="ae_2099"))
    with pytest.raises(PlanValidationError, match=r"assignments.yaml: assignments.0.plan_id: unknown plan 'ae_2099'"):
        load_plan_bundle(plans_copy)


def test_overlapping_assignments_for_the_same_role_are_rejected(plans_copy: Path):
    def duplicate_role(d):
        d["assignments"].append({**d["assignments"][0], "assignment_id": "role_ae_again"})

    _edit(plans_copy / "assignments.yaml", duplicate_role)
    with pytest.raises(PlanValidationError, match=r"overlaps assignments\.0"):
        load_plan_bundle(plans_copy)


def test_malformed_yaml_names_the_file(plans_copy: Path):
    (plans_copy / "ae.v1.yaml").write_text("plan_id: [unclosed\n")
    with pytest.raises(PlanValidationError, match=r"ae.v1.yaml: <file>: not valid YAML"):
        load_plan_bundle(plans_copy)


def test_loaded_plan_version_is_immutable_and_reload_is_a_no_op(plans_copy: Path):
    conn = duckdb.connect()
    first = load_plans(conn, plans_copy)
    assert first.plan_versions_added == 9
    again = load_plans(conn, plans_copy)
    assert (again.plan_versions_added, again.assignments_replaced) == (0, False)
    assert conn.execute("select count(*) from raw.plans__plan_versions").fetchone() == (9,)

    _edit(plans_copy / "ae.v1.yaml", lambda d: d["tiers"][0].update(rate=0.09))
    with pytest.raises(PlanValidationError, match="plan versions are immutable, add v2 instead"):
        load_plans(conn, plans_copy)
    assert conn.execute("select count(*) from raw.plans__plan_tiers where plan_id = 'ae'").fetchone() == (9,)


def test_bonus_with_two_amount_rules_is_rejected_naming_the_bonus(plans_copy: Path):
    def both_rules(d):
        d["bonuses"][0]["rate_on_credit"] = 0.01

    _edit(plans_copy / "ae.v2.yaml", both_rules)
    with pytest.raises(PlanValidationError, match=r"ae.v2.yaml: bonuses\.0: give exactly one of rate_on_credit"):
        load_plan_bundle(plans_copy)


def test_overlapping_versions_of_one_plan_are_rejected(plans_copy: Path):
    _edit(plans_copy / "ae.v1.yaml", lambda d: d.update(effective_to=None))
    with pytest.raises(PlanValidationError, match=r"ae.v2.yaml: effective_from: overlaps version 1"):
        load_plan_bundle(plans_copy)


def test_plan_hash_ignores_optional_fields_left_at_their_default():
    """Adding an optional field to the plan schema must not make already-loaded versions look changed."""
    from ingestion.plans import CompPlan, _plan_hash

    base = yaml.safe_load((PLANS_DIR / "ae.v1.yaml").read_text())
    assert _plan_hash(CompPlan.model_validate(base)) == _plan_hash(CompPlan.model_validate({**base, "bonuses": []}))


def test_a_plan_file_repeating_a_key_is_refused_naming_the_key_and_both_lines(plans_copy: Path):
    """A second `multiple_of_monthly_target_incentive` under `payout_cap` (YAML would keep the last, 30.0)."""
    path = plans_copy / "ae.v1.yaml"
    text = path.read_text()
    repeated = "  multiple_of_monthly_target_incentive: 3.0\n"
    assert text.count(repeated) == 1
    path.write_text(text.replace(repeated, repeated + "  multiple_of_monthly_target_incentive: 30.0\n"))

    with pytest.raises(PlanValidationError) as refused:
        load_plan_bundle(plans_copy)

    assert str(refused.value) == (
        "ae.v1.yaml: <file>: line 20: duplicate key 'multiple_of_monthly_target_incentive' (first at line 19): "
        "each setting is written once; remove or merge the other"
    )


def test_a_plan_file_with_a_second_tiers_block_is_refused(plans_copy: Path):
    path = plans_copy / "ae.v1.yaml"
    text = path.read_text()
    path.write_text(text + "tiers:\n  - {from_attainment: 0, rate: 0.5}\n")

    with pytest.raises(PlanValidationError, match=r"ae\.v1\.yaml: <file>: line \d+: duplicate key 'tiers'"):
        load_plan_bundle(plans_copy)
