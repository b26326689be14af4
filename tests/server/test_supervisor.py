"""The workers' supervisor on its own: restart back-off, giving up on workers that cannot start,
and killing a worker that stopped beating.

Each case runs a :class:`~runhistory.server.supervisor.Supervisor` in a fresh interpreter (it
forks, and installs signal handlers), with a small worker and short delays.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PRELUDE = """
import os, signal, sys, time
from runhistory.server.supervisor import Supervisor, WorkersFailingError, beat
"""


def _supervise(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_workers_failing_at_start_are_restarted_later_and_later_then_it_gives_up(
    tmp_path: Path,
) -> None:
    done = _supervise(
        """
        def fail():
            with open("starts", "a") as out:
                out.write(f"{time.monotonic()}\\n")
            sys.exit(3)

        try:
            Supervisor(2, fail, restart_delay=0.05, max_quick_failures=5).run()
        except WorkersFailingError as exc:
            print("gave up:", exc)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    delays = [
        line.rsplit(" in ", 1)[1] for line in done.stderr.splitlines() if "starting another" in line
    ]
    assert delays == ["0.05 s", "0.1 s", "0.2 s", "0.4 s"]  # doubled at each failure in a row
    assert "exited with status 3" in done.stderr
    assert done.stdout.startswith("gave up: 5 server workers in a row failed within 10 s")
    starts = [float(line) for line in (tmp_path / "starts").read_text().split()]
    assert len(starts) == 5  # the two first workers and three replacements, no more
    # the last one waited for a replacement (0.05 s after the first failure) and its failure
    assert starts[-1] - starts[0] >= 0.05 + 0.2


def test_a_worker_that_lived_long_enough_is_replaced_after_the_first_delay(
    tmp_path: Path,
) -> None:
    done = _supervise(
        """
        def work():
            if os.path.exists("ran"):  # the replacement: stop the supervisor
                os.kill(os.getppid(), signal.SIGTERM)
                time.sleep(30)
            open("ran", "w").close()
            time.sleep(0.3)  # longer than quick_seconds: not a failure at start
            sys.exit(1)

        Supervisor(1, work, restart_delay=0.05, quick_seconds=0.2, max_quick_failures=1).run()
        print("stopped")
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "exited with status 1; starting another in 0.05 s" in done.stderr
    assert done.stdout.strip() == "stopped"


def test_a_silent_worker_is_killed_and_replaced_while_a_beating_one_lives(
    tmp_path: Path,
) -> None:
    done = _supervise(
        """
        def work():
            if not os.path.exists("hung"):  # the first worker hangs: alive, silent
                open("hung", "w").close()
                time.sleep(30)
            started = time.monotonic()
            while time.monotonic() - started < 2.0:  # the replacement beats past the timeout
                beat()
                time.sleep(0.02)
            os.kill(os.getppid(), signal.SIGTERM)
            while True:
                beat()
                time.sleep(0.02)

        Supervisor(1, work, restart_delay=0.05, timeout=1.0).run()
        print("stopped")
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    killed = [line for line in done.stderr.splitlines() if "did not answer" in line]
    assert len(killed) == 1  # only the silent one, never the beating one
    assert "did not answer for 1 s and was killed; starting another in 0.05 s" in killed[0]
    assert done.stdout.strip() == "stopped"
