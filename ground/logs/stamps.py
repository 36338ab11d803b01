"""Which .tlog timestamps can be trusted.

A recorder writes its records in time order, so a log's stamps, in file order,
never go back by more than a host clock's jitter.  A stamp that damage has
changed (a flipped bit, a top byte set to 0x7F) stands out against that order;
the frame after it is usually whole, so readers keep the frame and only its
time is distrusted.  A stamp is trusted when:

- its record did not begin inside the record before (scan.py: the stamp then
  holds bytes of that record);
- it is a time at all: below 2**53 us (the year 2255; a float64 can hold it to
  the microsecond);
- it is not on a small island: fewer than `ISLAND_RECORDS` stamps whose times
  lie more than `gap_limit_us` away from every other stamp of the log (a
  damaged stamp at either end of a log is in order, but alone, far away); the
  largest group of stamps is never an island;
- it belongs to the largest subsequence of the log whose stamps never go back
  by more than `ORDER_TOLERANCE_US` (only computed when the log is out of order:
  one damaged stamp among a million costs one record, whichever way it moved).

Vectorised except the order search, which runs only on logs that are out of
order, in O(n log n).
"""

from bisect import bisect_right

import numpy as np

MAX_PLAUSIBLE_US = 1 << 53
ORDER_TOLERANCE_US = 1_000_000   # host clocks of third-party recorders step back a little
ISLAND_RECORDS = 8
DEFAULT_GAP_LIMIT_US = 3600 * 1_000_000


def trusted_stamps(stamps_us: np.ndarray, shared: np.ndarray | None = None,
                   gap_limit_us: int = DEFAULT_GAP_LIMIT_US) -> np.ndarray:
    """Bool per record (file order): True where its timestamp can be trusted.

    `shared`: True where the record began inside the one before (scan.py).
    """
    stamps = np.asarray(stamps_us, dtype=np.uint64)
    ok = stamps < np.uint64(MAX_PLAUSIBLE_US)
    if shared is not None:
        ok &= ~np.asarray(shared, dtype=bool)
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return ok
    t = stamps[idx].astype(np.int64)
    keep = _off_islands(t, gap_limit_us)
    if len(keep) < len(t):
        t, idx = t[keep], idx[keep]
    if len(t) > 1 and np.any(np.diff(t) < -ORDER_TOLERANCE_US):
        keep = _longest_in_order(t.tolist(), ORDER_TOLERANCE_US)
        idx = idx[keep]
    out = np.zeros(len(stamps), dtype=bool)
    out[idx] = True
    return out


def _longest_in_order(t: list[int], tolerance: int) -> np.ndarray:
    """Indices of a largest subsequence in which no value is below the running maximum of
    those before it by more than `tolerance` (patience sorting on the running maximum)."""
    tails: list[int] = []      # tails[k]: least running max of a kept run of length k + 1
    tail_at: list[int] = []    # the index that ends that run
    parent = [-1] * len(t)
    for i, x in enumerate(t):
        k = bisect_right(tails, x + tolerance)  # runs of length <= k can take x
        running = x if k == 0 else max(tails[k - 1], x)
        parent[i] = tail_at[k - 1] if k else -1
        if k == len(tails):
            tails.append(running)
            tail_at.append(i)
        elif running < tails[k]:
            tails[k] = running
            tail_at[k] = i
    out = []
    i = tail_at[-1]
    while i >= 0:
        out.append(i)
        i = parent[i]
    return np.asarray(out[::-1], dtype=np.int64)


def _off_islands(t: np.ndarray, gap_limit_us: int) -> np.ndarray:
    """Positions of `t` whose value is not on a small island: the values, sorted, are cut
    where they jump by more than gap_limit_us; parts of fewer than ISLAND_RECORDS values
    are islands, except the largest part."""
    in_order = bool(np.all(np.diff(t) >= 0))
    order = np.arange(len(t)) if in_order else np.argsort(t, kind="stable")
    cuts = np.flatnonzero(np.diff(t[order]) > gap_limit_us) + 1
    if not len(cuts):
        return np.arange(len(t))
    bounds = np.concatenate([[0], cuts, [len(t)]])
    sizes = np.diff(bounds)
    part = np.repeat(np.arange(len(sizes)), sizes)  # part of each sorted position
    kept_part = (sizes >= ISLAND_RECORDS)
    kept_part[int(np.argmax(sizes))] = True
    keep = np.zeros(len(t), dtype=bool)
    keep[order] = kept_part[part]
    return np.flatnonzero(keep)
