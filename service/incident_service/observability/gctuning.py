"""Garbage-collector settings for a long-running server with many live connections.

With thousands of open websockets the heap holds millions of long-lived
objects, and CPython's full (generation 2) collections walk all of them:
measured at 1-3 s each with 10,000 subscribers, during which no event is
delivered. Two standard measures cut that down:

* `gc.freeze()` once start-up is done moves everything imported and built so
  far (modules, classes, the schema, the app) out of the collector's sight:
  those objects live as long as the process, so examining them again and
  again finds nothing. Freed objects are still freed by reference counting.
* A larger generation-0 threshold: an event's short-lived objects (one
  result per subscriber) then mostly die before a young collection sees
  them, so fewer survive into the older generations, and the full
  collections that survivors eventually trigger come less often.
"""

from __future__ import annotations

import gc

#: Allocations (minus deallocations) between young collections; CPython's default is 700.
GEN0_THRESHOLD = 10_000


def tune_after_startup() -> None:
    """Call once, when the application has started and before it serves traffic."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
