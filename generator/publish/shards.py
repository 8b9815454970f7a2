"""Shards: ``--shard I/N`` builds the runners whose id hashes to shard I of N, the same
on every machine and run, so N jobs of a cluster array together build the whole roster
(each with its own manifest, ``manifest.shard-I-of-N.json``)."""

from __future__ import annotations

import hashlib

from generator.core.errors import UsageError


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard must look like I/N (e.g. 2/8), got {text!r}") from None
    if not 1 <= i <= n:
        raise UsageError(f"--shard {text}: need 1 <= I <= N")
    return i, n


def in_shard(athlete_id: str, shard: tuple[int, int] | None) -> bool:
    """Stable partition by a hash of the id: the same on every machine and run."""
    if shard is None:
        return True
    i, n = shard
    return int(hashlib.sha256(athlete_id.encode()).hexdigest()[:12], 16) % n == i - 1
