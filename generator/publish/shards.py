"""Shards: ``--shard I/N`` builds the runners whose id hashes to shard I of N, the same
on every machine and run, so N jobs of a cluster array together build the whole roster
(each with its own manifest, ``manifest.shard-I-of-N.json``, merged into
``manifest.json`` afterwards: publish/shardmerge.py).

``--shard auto`` takes the shard from the environment a cluster engine gives each job of
an array, 0-based there and 1-based here (index 0 is shard 1):

- Kubernetes Indexed Job: the index in ``$JOB_COMPLETION_INDEX``; Kubernetes does not say
  how many there are (the Job's ``completions``), so say it once: ``--shard auto/N`` or
  ``$GUIDEGEN_SHARD_COUNT``;
- AWS Batch array job: ``$AWS_BATCH_JOB_ARRAY_INDEX`` and ``$AWS_BATCH_JOB_ARRAY_SIZE``.

Every count given (``auto/N``, ``$GUIDEGEN_SHARD_COUNT``, ``$AWS_BATCH_JOB_ARRAY_SIZE``)
must agree, and so must both indexes when both are set: a job that cannot tell which
shard it is builds nothing (a usage error, exit 2) rather than the wrong runners.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from generator.core.errors import UsageError

K8S_INDEX = "JOB_COMPLETION_INDEX"
AWS_INDEX = "AWS_BATCH_JOB_ARRAY_INDEX"
AWS_SIZE = "AWS_BATCH_JOB_ARRAY_SIZE"
COUNT_ENV = "GUIDEGEN_SHARD_COUNT"
INDEXES = (K8S_INDEX, AWS_INDEX)

_NUMBER = re.compile(r"[0-9]{1,9}")
_EXPLICIT = re.compile(r"([0-9]{1,9})/([0-9]{1,9})")
_AUTO = re.compile(r"auto(?:/(.*))?")
_FORMS = "I/N (e.g. 2/8, 1-based), auto or auto/N"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``; ``origin`` says where an ``auto`` shard
    came from (the variables read), empty for an explicit ``I/N``."""

    index: int
    count: int
    origin: str = ""

    @property
    def pair(self) -> tuple[int, int]:
        return self.index, self.count


def read_shard(text: str | None, environ: Mapping[str, str] | None = None) -> Shard | None:
    """The ``--shard`` value as a :class:`Shard` (None without one); ``environ`` (default
    ``os.environ``) is read only for ``auto``."""
    if text is None:
        return None
    text = text.strip()
    auto = _AUTO.fullmatch(text)
    if auto:
        return _from_environment(auto.group(1), os.environ if environ is None else environ)
    explicit = _EXPLICIT.fullmatch(text)
    if not explicit:
        raise UsageError(f"--shard must be {_FORMS}; got {text!r}")
    i, n = int(explicit.group(1)), int(explicit.group(2))
    if not 1 <= i <= n:
        raise UsageError(f"--shard {text}: need 1 <= I <= N")
    return Shard(i, n)


def parse_shard(text: str | None, environ: Mapping[str, str] | None = None
                ) -> tuple[int, int] | None:
    """``(I, N)`` for ``--shard`` (see :func:`read_shard`), None without one."""
    shard = read_shard(text, environ)
    return shard.pair if shard is not None else None


def _from_environment(given: str | None, env: Mapping[str, str]) -> Shard:
    """``--shard auto`` (``given`` None) or ``auto/N`` (``given`` the N)."""
    indexes = {name: _number(name, env[name], minimum=0) for name in INDEXES
               if env.get(name, "").strip()}
    if not indexes:
        raise UsageError(f"--shard auto: no shard index in the environment (${K8S_INDEX} in a "
                         f"Kubernetes Indexed Job, ${AWS_INDEX} in an AWS Batch array job); "
                         "outside such a job give --shard I/N")
    if len(set(indexes.values())) > 1:
        raise UsageError("--shard auto: the shard indexes disagree: "
                         + ", ".join(f"${k}={v}" for k, v in indexes.items()))
    if env.get(AWS_SIZE, "").strip() and AWS_INDEX not in indexes:
        raise UsageError(f"--shard auto: ${AWS_SIZE} is set but ${AWS_INDEX} is not")
    counts: dict[str, int] = {}
    if given is not None:
        counts[f"--shard auto/{given}"] = _number("--shard auto/N", given, minimum=1)
    for name in (COUNT_ENV, AWS_SIZE):
        if env.get(name, "").strip():
            counts[f"${name}={env[name].strip()}"] = _number(name, env[name], minimum=1)
    if not counts:
        raise UsageError(f"--shard auto: ${next(iter(indexes))} gives the shard but not how "
                         f"many there are: give it once, as --shard auto/N or in "
                         f"${COUNT_ENV} (a Kubernetes Job's completions)")
    if len(set(counts.values())) > 1:
        raise UsageError("--shard auto: the shard counts disagree: " + ", ".join(counts))
    (name, index), count = next(iter(indexes.items())), next(iter(counts.values()))
    if index >= count:
        raise UsageError(f"--shard auto: ${name}={index} is not one of {count} shards "
                         f"(0-based: 0 to {count - 1})")
    origin = ", ".join([*(f"${k}={v}" for k, v in indexes.items()), *counts])
    return Shard(index + 1, count, origin)


def _number(name: str, value: str, minimum: int) -> int:
    text = value.strip()
    if not _NUMBER.fullmatch(text) or int(text) < minimum:
        what = "a whole number" if minimum == 0 else f"a whole number of at least {minimum}"
        raise UsageError(f"{name} must be {what}; got {value!r}")
    return int(text)


def shard_of(athlete_id: str, count: int) -> int:
    """The shard (1-based) of ``count`` that builds ``athlete_id``: a hash of the id, the
    same on every machine and run."""
    return int(hashlib.sha256(athlete_id.encode()).hexdigest()[:12], 16) % count + 1


def in_shard(athlete_id: str, shard: tuple[int, int] | None) -> bool:
    """Whether shard ``(I, N)`` builds ``athlete_id`` (every runner without a shard)."""
    if shard is None:
        return True
    i, n = shard
    return shard_of(athlete_id, n) == i
