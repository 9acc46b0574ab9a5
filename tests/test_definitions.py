"""Snapshot of the Dagster graph: an accidental change to assets, jobs, checks or schedules shows here."""

from __future__ import annotations

import dagster as dg


def test_definitions_graph_snapshot(dbt_manifest):
    from orchestration.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {
        "raw/crm__opportunities",
        "raw/crm__opportunity_splits",
        "raw/hr__workers",
        "raw/billing__invoices",
        "raw/salesops__quotas",
        "raw/fx__rates",
        "raw/plans__plan_versions",
        "staging/stg_crm__opportunities",
        "intermediate/int_commission_entries",
        "intermediate/int_plan_segments",
        "marts/fct_commission_ledger",
        "marts/fct_monthly_payouts",
        "marts/fct_attainment",
        "marts/fct_quota",
        "marts/fct_retention_monthly",
        "published/monthly_payouts",
    } <= keys

    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {"ingestion", "warehouse", "publication"}

    published = dg.AssetKey(["published", "monthly_payouts"])
    assert graph.get(published).partitions_def is not None
    from orchestration.defs.publication import GX_CHECK
    from orchestration.publication.gates import GATES

    check_keys = graph.get_check_keys_for_assets({published})
    assert {c.name for c in check_keys} == {g.name for g in GATES} | {GX_CHECK}
    assert all(graph.get_check_spec(k).blocking for k in check_keys), "every publication check must block"

    nightly = defs.resolve_job_def("nightly_preview_job")
    assert published not in set(nightly.asset_layer.selected_asset_keys), "the nightly run never publishes"
    assert published in set(defs.resolve_job_def("publish_month_job").asset_layer.selected_asset_keys)
    schedule = defs.resolve_schedule_def("nightly_preview_schedule")
    assert schedule.cron_schedule == "0 2 * * *"


def test_dbt_tests_are_asset_checks(dbt_manifest):
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    dbt_checks = graph.get_check_keys_for_assets({dg.AssetKey(["marts", "fct_monthly_payouts"])})
    assert any("unique" in k.name for k in dbt_checks)
