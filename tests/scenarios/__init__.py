"""Hand-computed compensation scenarios run through the real pipeline (see docs/scenarios.md)."""
