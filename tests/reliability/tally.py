"""Session-wide counts of the reliability suite: bad inputs tried, faults injected, things lost."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Tally:
    """Counters the tests bump; ``lost`` counts violations (a missing/extra terminal message,
    a chunk a client had received and then lost, a server that stopped answering)."""

    bad_inputs: int = 0
    faults: int = 0
    lost: int = 0
    lost_what: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bad(self, n: int = 1) -> None:
        with self.lock:
            self.bad_inputs += n

    def fault(self, n: int = 1) -> None:
        with self.lock:
            self.faults += n

    def check(self, ok: bool, what: str) -> bool:
        """Record a violation when ``ok`` is false (and return ``ok`` for an assert)."""
        if not ok:
            with self.lock:
                self.lost += 1
                self.lost_what.append(what)
        return ok

    def line(self) -> str:
        return f"reliability: {self.bad_inputs} bad inputs, {self.faults} faults injected, {self.lost} lost"


TALLY = Tally()
