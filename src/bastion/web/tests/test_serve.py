"""`bastion serve --processes N`: the forked servers share one socket and stop with the parent."""

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bastion.testing.bench.scratch import free_port


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/login/")
        return conn.getresponse().status == 200
    except OSError:
        return False


def test_stopping_the_server_stops_its_forked_processes(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # a SQLite of its own
    env["BASTION_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "bastion.cli", "serve", "--port", str(port), "--processes", "3"]
        + ["--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            assert server.poll() is None, "the server stopped on its own"
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)
        forked = _children(server.pid)
        assert len(forked) == 2  # three processes: the parent and two forks

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

        assert not any(Path(f"/proc/{pid}").exists() for pid in forked)
        assert not _answers(port)
    finally:
        if server.poll() is None:
            server.kill()
