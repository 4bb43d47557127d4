"""Child process for the SIGKILL tests (not a test module).

Usage: python _kill_child.py PATH stream|paused

* ``stream``: writes numbered samples forever with the normal 100 ms commit interval and prints
  ``<submitted> <committed>`` after every 100 rows.
* ``paused``: commits 1000 rows (flush), then queues 500 more under a 60 s commit interval,
  prints ``ready`` and sleeps: the parent kills it with the last batch uncommitted.
"""

from __future__ import annotations

import sys
import time

from rehearsal.recorder import Recorder


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    interval = 0.1 if mode == "stream" else 60.0
    recorder = Recorder(path, commit_interval=interval, max_pending=10_000_000).start()
    n = 0

    def write(count: int) -> None:
        nonlocal n
        for _ in range(count):
            n += 1
            recorder.add_sample(n * 0.001, 0.0, "counter", "counter.n", float(n), None)

    if mode == "stream":
        while True:
            write(100)
            print(n, recorder.stats.committed, flush=True)
            time.sleep(0.002)
    write(1000)
    assert recorder.flush(30)
    write(500)
    print("ready", recorder.stats.committed, flush=True)
    time.sleep(120)


if __name__ == "__main__":
    main()
