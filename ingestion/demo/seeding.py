"""Seed derivation: one independent random stream per subsystem.

Each subsystem (HR, CRM, billing, ...) gets its own `random.Random` derived from the root seed and a stable
label. Adding a draw to one subsystem therefore never shifts the numbers of another, which keeps diffs
between generator versions small and reviewable. Seeds are derived with SHA-256, not `hash()`, so they do not
depend on PYTHONHASHSEED.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import unicodedata

from faker import Faker

FAKER_LOCALES: tuple[str, ...] = (
    "en_US",
    "en_CA",
    "en_GB",
    "de_DE",
    "fr_FR",
    "es_ES",
    "nl_NL",
    "it_IT",
    "en_AU",
    "es_MX",
    "pt_BR",
)


def derive_seed(seed: int, label: str) -> int:
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rng_for(seed: int, label: str) -> random.Random:
    """An independent, reproducible random stream for one subsystem."""
    return random.Random(derive_seed(seed, label))


@functools.cache
def _shared_faker() -> Faker:
    return Faker(list(FAKER_LOCALES))


def faker_for(seed: int, label: str) -> Faker:
    """A multi-locale Faker seeded for one subsystem (person names, company names).

    Building an 11-locale Faker costs ~0.4 s, so one instance is shared and fully re-seeded here (re-seeding
    replaces every locale's random state). Consequence: use one returned Faker at a time, each subsystem
    finishing its draws before the next calls `faker_for`, which is how the generator runs.
    """
    fake = _shared_faker()
    fake.seed_instance(derive_seed(seed, label))
    return fake


def ascii_slug(text: str) -> str:
    """`José Müller-Lüdenscheidt` -> `josemullerludenscheidt`, for e-mail local parts."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's Poisson sampler (fine for the small means used here: deals per rep per month)."""
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation keeps the loop short for silly configs
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit = math.exp(-mean)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
