"""Worked examples in the plan files (`examples:` in plans/*.yaml) -> scenarios for their own warehouse.

An example is a scenario without its `plans` block (:class:`~.schema.PlanExample`): the plan is the file itself.
Each example becomes a scenario keyed `x<NNN>` (numbered over all plan files, in file order) whose only plan is a
copy of the file's plan version renamed `x<NNN>_<plan_id>` - every other field, effective dates included, as in
the file - so examples of different files (ae.v1, ae.v2, ...) cannot clash in one plans folder. An employee is
on that plan for the version's whole effective range unless the example says `plan: null` (on no plan, e.g. the
reps feeding a manager plan); every event must lie inside the effective range (clipped to the warehouse horizon,
2025-2026, because the v1 plans end in 2025 and the v2/v3 plans start in 2026).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ingestion.plans import ASSIGNMENTS_FILE, CompPlan

from .schema import (
    PLAN_EXAMPLES_HORIZON,
    Horizon,
    PlanExample,
    Scenario,
    ScenarioError,
    _format,
    check_scenario,
    read_yaml,
)

PLANS_DIR = Path(__file__).resolve().parents[2] / "plans"


@dataclass(frozen=True)
class PlanExampleCase:
    """One worked example of one plan file, and the scenario the harness builds for it."""

    plan_file: str
    """File name in plans/, e.g. `ae.v3.yaml`."""
    plan: CompPlan
    example: PlanExample
    scenario: Scenario

    @property
    def label(self) -> str:
        """`ae.v3:<example id>`: the test id and how the docs name the example."""
        return f"{self.plan_file.removesuffix('.yaml')}:{self.example.id}"


def plan_files(plans_dir: Path = PLANS_DIR) -> list[Path]:
    return sorted(p for p in plans_dir.glob("*.yaml") if p.name != ASSIGNMENTS_FILE)


def _on_plan(plan: CompPlan, plan_gid: str, assignment: dict[str, Any] | None = None) -> dict[str, Any]:
    """An assignment to the renamed plan; dates default to the plan version's effective range."""
    dates: dict[str, Any] = {"effective_from": plan.effective_from}
    if plan.effective_to is not None:
        dates["effective_to"] = plan.effective_to
    return {**dates, **(assignment or {}), "plan": plan_gid}


def _employees(raw: list[Any], plan: CompPlan, plan_gid: str, fail: Any) -> list[Any]:
    """Put every employee on the file's plan unless they say `plan: null`; rename explicit references."""
    out: list[Any] = []
    for j, employee in enumerate(raw):
        if not isinstance(employee, dict) or ("plan" in employee and "assignments" in employee):
            out.append(employee)  # the model reports it
            continue
        e = dict(employee)
        if "assignments" in e:
            assignments = []
            for k, a in enumerate(e["assignments"] or []):
                if isinstance(a, dict) and a.get("plan") != plan.plan_id:
                    fail(f"employees.{j}.assignments.{k}.plan", f"an example can only use its plan {plan.plan_id!r}")
                assignments.append(_on_plan(plan, plan_gid, a) if isinstance(a, dict) else a)
            e["assignments"] = assignments
        elif "plan" in e and e["plan"] is None:
            del e["plan"]  # on no plan
        elif "plan" in e and e["plan"] != plan.plan_id:
            fail(f"employees.{j}.plan", f"{e['plan']!r}: an example's employee is on {plan.plan_id!r} or null")
        else:
            e.pop("plan", None)
            e["assignments"] = [_on_plan(plan, plan_gid)]
        out.append(e)
    return out


def read_plan_examples(path: Path, first_number: int, horizon: Horizon) -> list[PlanExampleCase]:
    """The examples of one plan file, as scenarios numbered from `first_number`."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: a plan file is a mapping")
    try:
        plan = CompPlan.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format(exc, path.name)) from None
    raw_examples = data.get("examples") or []
    if not raw_examples:
        return []
    window = horizon.clip(plan.effective_from, plan.effective_to)
    if window is None:
        raise ScenarioError(
            f"{path.name}: examples: the plan version ({plan.effective_from}..{plan.effective_to or ''}) does not "
            f"meet the plan-examples horizon {horizon}"
        )
    plan_raw = {k: v for k, v in data.items() if k != "examples"}
    cases: list[PlanExampleCase] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_examples):
        eid = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        where = f"{path.name}: examples.{i} ({eid})"
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: an example is a mapping (a scenario without `plans`)")
        try:
            example = PlanExample.model_validate(raw)
        except ValidationError as exc:
            raise ScenarioError(_format(exc, where)) from None
        if example.id in seen:
            raise ScenarioError(f"{where}: id: duplicate example id {example.id!r} in this file")
        seen.add(example.id)

        def fail(field: str, msg: str, where: str = where) -> None:
            raise ScenarioError(f"{where}: {field}: {msg}")

        key = f"x{first_number + len(cases):03d}"
        plan_gid = f"{key}_{plan.plan_id}"
        scenario_raw = {
            **raw,
            "id": f"{key}_{example.id}",
            "plans": [{**plan_raw, "plan_id": plan_gid}],
            "employees": _employees(raw.get("employees") or [], plan, plan_gid, fail),
            "source_file": path.name,
            "label": f"examples.{i} ({example.id})",
        }
        try:
            scenario = Scenario.model_validate(scenario_raw)
        except ValidationError as exc:
            raise ScenarioError(_format(exc, where)) from None
        check_scenario(scenario, window)
        cases.append(PlanExampleCase(path.name, plan, example, scenario))
    return cases


def load_plan_examples(plans_dir: Path = PLANS_DIR, horizon: Horizon = PLAN_EXAMPLES_HORIZON) -> list[PlanExampleCase]:
    """Every worked example of every plan file, in file order (ids `x001`, `x002`, ... in that order)."""
    cases: list[PlanExampleCase] = []
    for path in plan_files(plans_dir):
        cases.extend(read_plan_examples(path, len(cases) + 1, horizon))
    if len(cases) > 999:
        raise ScenarioError(f"{plans_dir}: more than 999 plan examples; widen the x<NNN> key")
    return cases
