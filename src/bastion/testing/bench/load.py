"""The HTTP load of `bastion bench testing`: client processes scanning against the server."""

import contextlib
import json
import multiprocessing
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from bastion.testing.bench.district import POOL
from bastion.testing.bench.scratch import BenchError

BATCH = 50


# ------------------------------------------------------------------------------ the clients
# These run in forked processes and touch no Django.


@dataclass
class ClientRun:
    accepted: int = 0
    refused: int = 0
    requests: int = 0
    warm: int = 0  # scans accepted before the clock started
    seconds: float = 0.0
    reasons: dict = field(default_factory=dict)
    error: str = ""


class _Link:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the answer by its
    Content-Length. The clients stand in for scanners on other devices; on this machine they
    share the server's two cores, so they cost as little as a socket allows (`http.client`
    parsed every answer's headers as e-mail and took a tenth of the CPU a scan needs)."""

    def __init__(self, port: int, path: str, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()
        self.buffer = b""

    def post(self, body: dict) -> tuple[int, dict]:
        status, answer = self.post_raw(body)
        return status, json.loads(answer or b"{}")

    def post_raw(self, body: dict) -> tuple[int, bytes]:
        """The status and the body as sent (an error page need not be JSON)."""
        data = json.dumps(body).encode()
        self.sock.sendall(self.head + str(len(data)).encode() + b"\r\n\r\n" + data)
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        while len(self.buffer) < length:
            self._receive()
        answer, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, answer

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("The server closed the connection.")
        self.buffer += chunk


def _client(
    port: int,
    token: str,
    station_id: int,
    codes: list[str],
    batch: int,
    seconds: float,
    tag: str,
    barrier,
    results,
) -> None:
    """Scan `codes` at one station, `batch` per request (1: the single-scan endpoint), over
    one keep-alive connection, until they run out or `seconds` pass."""
    run = ClientRun()
    reasons: Counter = Counter()
    path = f"/api/v1/testing/stations/{station_id}/scans" + ("" if batch == 1 else "/batch")
    link = _Link(port, path, token)
    tube, in_tube, position = 0, 0, 0

    def send() -> int:
        nonlocal tube, in_tube, position
        items = []
        for code in codes[position : position + batch]:
            if in_tube == POOL:
                tube, in_tube = tube + 1, 0
            barcode = f"{tag}-{tube:06d}"
            items.append({"client_id": str(uuid.uuid4()), "tube": barcode, "code": code})
            in_tube += 1
        position += len(items)
        status, answer = link.post(items[0] if batch == 1 else {"scans": items})
        run.requests += 1
        if batch == 1:
            if status == 201:
                if answer.get("tube_closed"):
                    tube, in_tube = tube + 1, 0
                return 1
            reasons[answer.get("scan", {}).get("reason") or f"http {status}"] += 1
            return 0
        if status != 200:
            reasons[f"http {status}"] += len(items)
            return 0
        for r in answer["results"]:
            if r["status"] != "accepted":
                reasons[r["reason"] or r["status"]] += 1
        return answer["accepted"]

    try:
        if codes:  # a kept district may have nobody left for this client to sample
            run.warm = send()  # the first request of a connection is not timed
        barrier.wait()
        started = time.perf_counter()
        deadline = started + seconds
        while position < len(codes) and time.perf_counter() < deadline:
            run.accepted += send()
        run.seconds = time.perf_counter() - started
    except Exception as e:  # reported to the bench, which fails loudly
        run.error = f"{type(e).__name__}: {e}"
        barrier.abort()
    run.refused = sum(reasons.values())
    run.reasons = dict(reasons)
    results.put(run)


def load_run(
    *,
    port: int,
    token: str,
    stations: list[int],
    codes: list[str],
    batch: int,
    seconds: float,
    tag: str,
) -> dict:
    """Scans per second of `len(stations)` client processes started together."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(stations) + 1)
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=_client,
            args=(
                port,
                token,
                station,
                codes[i :: len(stations)],
                batch,
                seconds,
                f"{tag}{i}",
                barrier,
                results,
            ),
            daemon=True,
        )
        for i, station in enumerate(stations)
    ]
    for p in processes:
        p.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=300)  # broken when a client failed: its error is in its result
    runs: list[ClientRun] = [results.get(timeout=seconds + 300) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    errors = [r.error for r in runs if r.error]
    if errors:
        raise BenchError("A client failed: " + errors[0])
    elapsed = max(r.seconds for r in runs)
    accepted = sum(r.accepted for r in runs)
    reasons: Counter = Counter()
    for r in runs:
        reasons.update(r.reasons)
    return {
        "scans_per_s": accepted / elapsed if elapsed else 0.0,
        "accepted": accepted + sum(r.warm for r in runs),
        "refused": sum(r.refused for r in runs),
        "requests": sum(r.requests for r in runs),
        "seconds": elapsed,
        "reasons": dict(reasons),
    }
