"""Session-wide counts of the reliability suite: inputs tried, faults injected, terminals lost,
peak RSS growth. Every count is also kept per test module (the issue item it checks), and
:func:`summary` is what ``pytest_terminal_summary`` prints at the end of any run that
included the suite, ``-q`` or not, so CI logs carry the figures."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field


def _module() -> str:
    """The running test's module (``test_cancel_race``), from PYTEST_CURRENT_TEST."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    path = current.split("::", 1)[0]
    return os.path.basename(path).removesuffix(".py") or "?"


@dataclass
class Counts:
    inputs: int = 0
    faults: int = 0
    lost: int = 0


@dataclass
class Tally:
    """Counters the tests bump; ``lost`` counts violations (a missing/extra terminal message,
    a chunk a client had received and then lost, a server that stopped answering)."""

    bad_inputs: int = 0
    faults: int = 0
    lost: int = 0
    lost_what: list[str] = field(default_factory=list)
    per_module: dict[str, Counts] = field(default_factory=dict)
    #: peak RSS growth (MB) of a real sidecar per measured input, e.g. "speech 5 min"
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _counts(self) -> Counts:
        return self.per_module.setdefault(_module(), Counts())

    def touch(self) -> None:
        """List the running test's module in the summary even if it counts nothing."""
        with self.lock:
            self._counts()

    def bad(self, n: int = 1) -> None:
        """``n`` hostile or malformed inputs were tried."""
        with self.lock:
            self.bad_inputs += n
            self._counts().inputs += n

    def fault(self, n: int = 1) -> None:
        with self.lock:
            self.faults += n
            self._counts().faults += n

    def check(self, ok: bool, what: str) -> bool:
        """Record a violation when ``ok`` is false (and return ``ok`` for an assert)."""
        with self.lock:
            self._counts()
            if not ok:
                self.lost += 1
                self.lost_what.append(what)
                self._counts().lost += 1
        return ok

    def rss(self, what: str, growth_mb: float) -> None:
        """The peak RSS growth a real sidecar showed for one input."""
        with self.lock:
            self.peak_rss_mb[what] = float(growth_mb)
            self._counts()

    def line(self) -> str:
        text = (f"reliability: {self.bad_inputs} inputs tried, {self.faults} faults injected, "
                f"{self.lost} terminals lost")
        if self.peak_rss_mb:
            worst = max(self.peak_rss_mb, key=self.peak_rss_mb.__getitem__)
            text += f", peak RSS growth {self.peak_rss_mb[worst]:.0f} MB at most ({worst})"
        return text

    def summary(self) -> list[str]:
        """The figures, one line each: the totals first, then each module, RSS, losses."""
        if not self.per_module:
            return []
        out = [self.line()]
        for name, c in sorted(self.per_module.items()):
            out.append(f"  {name}: {c.inputs} inputs, {c.faults} faults, {c.lost} lost")
        if self.peak_rss_mb:
            out.append("  peak RSS growth: " + "; ".join(f"{k} {v:.1f} MB" for k, v in self.peak_rss_mb.items()))
        out.extend(f"  lost: {what}" for what in self.lost_what[:20])
        return out


TALLY = Tally()
