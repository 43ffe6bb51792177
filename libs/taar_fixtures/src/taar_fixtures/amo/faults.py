"""Seeded fault injection for the fixture AMO server: which request fails, and how."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "truncate", "invalid", "timeout", "drop")


@dataclass
class FaultRule:
    """Fail requests whose path (with query string) matches the regex `path`.

    kind: `status` (answer `status`, with `Retry-After: retry_after` when set), `truncate`
    (200 with the JSON body cut in half), `invalid` (200 with an HTML body), `timeout`
    (wait `delay_s` before answering normally) or `drop` (close the connection unanswered).
    A matching rule fires with `probability`, at most `times` times (None: no limit).
    """

    path: str = ".*"
    kind: str = "status"
    status: int = 503
    retry_after: int | None = None
    times: int | None = None
    probability: float = 1.0
    delay_s: float = 5.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault probability must be in [0, 1], got {self.probability}")
        re.compile(self.path)


@dataclass
class FaultPlan:
    """Ordered fault rules (first match that fires wins), their RNG seed and extra latency."""

    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0
    latency_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultPlan:
        """The plan posted to `/__admin__/faults` (the shape of `to_dict`)."""
        rules = [FaultRule(**rule) for rule in data.get("rules", [])]
        return cls(rules=rules, seed=int(data.get("seed", 0)), latency_s=float(data.get("latency_s", 0.0)))

    @classmethod
    def random_errors(cls, rate: float, seed: int = 0, path: str = r"^/api/") -> FaultPlan:
        """About `rate` of API requests answer 429, 500, 502, 503 or a truncated body."""
        each = rate / 5
        kinds = [("status", 429), ("status", 500), ("status", 502), ("status", 503), ("truncate", 200)]
        rules = [FaultRule(path=path, kind=kind, status=status, probability=each) for kind, status in kinds]
        return cls(rules=rules, seed=seed)


class FaultInjector:
    """Thread-safe state of a `FaultPlan`: the seeded RNG and how often each rule fired."""

    def __init__(self, plan: FaultPlan | None) -> None:
        self.plan = plan or FaultPlan()
        self._patterns = [re.compile(rule.path) for rule in self.plan.rules]
        self._fired = [0] * len(self.plan.rules)
        self._random = random.Random(self.plan.seed)
        self._lock = threading.Lock()

    def pick(self, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (and count it)."""
        with self._lock:
            for k, (rule, pattern) in enumerate(zip(self.plan.rules, self._patterns, strict=True)):
                if not pattern.search(path):
                    continue
                if rule.times is not None and self._fired[k] >= rule.times:
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                self._fired[k] += 1
                return rule
        return None

    def fired(self) -> list[int]:
        with self._lock:
            return list(self._fired)
