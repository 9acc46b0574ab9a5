"""The incremental rule (macros/incremental_rebuild.sql) must know every source the engine models read.

An incremental engine model recomputes only from the earliest month its unseen loads can change, and that month
comes from the per-source rule in `change_months()`. A source the engine reads but the rule does not list would
never restart anything: months already built would silently keep results computed from stale data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.pipeline.incremental import INCREMENTAL_ENGINE_MODELS

MACROS = Path(__file__).resolve().parent.parent / "dbt_project" / "macros" / "incremental_rebuild.sql"

PLAN_CHILD_TABLES = {"plans__plan_tiers", "plans__plan_bonuses", "plans__plan_credit_types"}
"""Loaded only together with a new plan version, in the same load (ingestion/plans.py: versions are immutable),
so the plan-version rule covers them."""


def _sources_named_in(macro: str) -> set[str]:
    text = MACROS.read_text()
    body = re.search(r"\{% macro " + macro + r"\(\) -%\}(.*?)\{%- endmacro %\}", text, re.S)
    assert body, f"macro {macro} not found in {MACROS}"
    return set(re.findall(r"source\('\w+', '(\w+)'\)", body.group(1)))


def _raw_sources_upstream(manifest: dict, unique_ids: list[str]) -> set[str]:
    seen: set[str] = set()
    pending = list(unique_ids)
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = manifest["nodes"].get(node_id) or {}
        pending.extend(node.get("depends_on", {}).get("nodes", []))
    return {
        manifest["sources"][s]["identifier"]
        for s in seen
        if s.startswith("source.")
        and manifest["sources"][s]["schema"] == "raw"
        # the loader's own file log (raw._loaded_files) is what the rule reads, not a source system's data
        and not manifest["sources"][s]["identifier"].startswith("_")
    }


def test_every_raw_source_upstream_of_an_engine_model_has_a_change_rule(dbt_manifest: Path) -> None:
    manifest = json.loads(dbt_manifest.read_text())
    engine_models = [f"model.spm.{name.split('.')[1]}" for name in INCREMENTAL_ENGINE_MODELS]
    upstream = _raw_sources_upstream(manifest, engine_models)
    ruled = _sources_named_in("change_months") | _sources_named_in("plan_change_months")

    assert "crm__opportunities" in upstream and "hr__workers" in upstream, "the walk must reach the raw layer"
    assert upstream - PLAN_CHILD_TABLES <= ruled, f"no change rule for {sorted(upstream - PLAN_CHILD_TABLES - ruled)}"


def test_sources_the_rule_leaves_out_feed_no_engine_model(dbt_manifest: Path) -> None:
    manifest = json.loads(dbt_manifest.read_text())
    engine_models = [f"model.spm.{name.split('.')[1]}" for name in INCREMENTAL_ENGINE_MODELS]
    outside = _sources_named_in("sources_outside_the_engine")

    assert outside == {"crm__users", "crm__accounts"}
    assert not outside & _raw_sources_upstream(manifest, engine_models)
