"""Regenerate docs/scenarios.md from the library and the plan files' worked examples:
`python -m tests.scenarios.render_doc` (from the repo root)."""

from __future__ import annotations

from .harness import LIBRARY_DIR, REPO_ROOT, render_scenarios_doc
from .plan_examples import load_plan_examples
from .schema import load_library


def main() -> None:
    target = REPO_ROOT / "docs" / "scenarios.md"
    target.write_text(render_scenarios_doc(load_library(LIBRARY_DIR), load_plan_examples()), encoding="utf-8")
    print(f"wrote {target.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
