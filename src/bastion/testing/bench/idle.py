"""A thousand phones connected at once, for `bastion bench faults` and the serve tests: keep-
alive connections opened together and left idle, then each asks for one page; every one must
be answered, none left hanging."""

import resource
import selectors
import socket
import time
from collections.abc import Callable

PATH = "/static/web/bastion.css"  # a cheap answer: the connections are measured, not a page


def idle_connections(
    port: int, *, count: int = 1000, wait: float = 10.0, while_idle: Callable | None = None
) -> dict:
    """Open `count` connections to 127.0.0.1:`port` at once and leave them idle (meanwhile
    call `while_idle()`: a new visitor, say); then send a GET on each and count the answers
    that come within `wait` seconds. Returns opened, answered, hanging (opened and not
    answered in time), refused (not even opened), the seconds the last answer took and what
    `while_idle` answered."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, wanted)), hard))
    opened: list[socket.socket] = []
    refused = 0
    try:
        for _ in range(count):
            try:
                opened.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                refused += 1
        time.sleep(0.5)  # idle: the server has taken them and waits for a request
        meanwhile = while_idle() if while_idle else None
        request = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        waiting = selectors.DefaultSelector()
        for sock in opened:
            try:
                sock.sendall(request)
            except OSError:
                continue  # closed by the server: counted as not answered
            sock.setblocking(False)
            waiting.register(sock, selectors.EVENT_READ)
        started = time.monotonic()
        deadline = started + wait
        answered, last = 0, 0.0
        while waiting.get_map() and time.monotonic() < deadline:
            for key, _events in waiting.select(timeout=0.5):
                try:
                    head = key.fileobj.recv(65536)
                except OSError:
                    head = b""
                if head.startswith(b"HTTP/1.1 200"):
                    answered += 1
                    last = time.monotonic() - started
                waiting.unregister(key.fileobj)
        return {
            "opened": len(opened),
            "answered": answered,
            "hanging": len(opened) - answered,
            "refused": refused,
            "last_answer_s": round(last, 2),
            "while_idle": meanwhile,
        }
    finally:
        for sock in opened:
            sock.close()
