"""Publication: blocking checks and the write-audit-publish of monthly payouts (no Dagster imports)."""
