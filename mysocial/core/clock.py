"""Now as ISO text, cheaply: the formatted second is kept, only its fraction is formatted per call
(`datetime.now().isoformat()` and `strftime` cost several µs, on every document, job and log line)."""
from __future__ import annotations

import time

_second: tuple[int, str] = (0, "")  # (the second, its text); replaced whole, so threads never see half


def utc_now(digits: int = 3) -> str:
    """`YYYY-MM-DDTHH:MM:SS.fffZ` (UTC), with `digits` decimals (3: milliseconds, 6: microseconds)."""
    global _second
    now = time.time()
    whole = int(now)
    known = _second
    if known[0] != whole:
        known = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{known[1]}.{int((now - whole) * 10 ** digits):0{digits}d}Z"
