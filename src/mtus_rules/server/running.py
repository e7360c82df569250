"""Running the service: binding the socket, uvicorn, signals."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from ..engine import Engine
from ..errors import MtusRulesError, Problem
from ..integration.audit import read_key_file
from .app import _IdLog, create_app
from .models import DEFAULT_MAX_BATCH_BODY, DEFAULT_MAX_BODY

# -- running it -------------------------------------------------------------------------------


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port); OSError if it cannot be had."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(app: FastAPI, sock: socket.socket, *, log_level: str = "warning", access_log: bool = False) -> None:
    """Serve `app` on `sock` until SIGINT or SIGTERM (uvicorn then re-raises the
    signal after a graceful shutdown, so the caller sees how it was stopped)."""
    print(f"mtus-rules: serving on {url_of(sock)} (ready at /ready once the code sets are loaded)", file=sys.stderr, flush=True)
    # A stop waits for the requests in flight, but not for ever (a long batch being streamed).
    config = uvicorn.Config(app, log_level=log_level, access_log=access_log, lifespan="on", timeout_graceful_shutdown=30)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    rules: list[Path] | None = None,
    decision_log: Path | None = None,
    log_identifying: bool = False,
    audit_key_file: Path | None = None,
    max_body: int | None = None,
    max_batch_body: int | None = None,
) -> int:
    """`mtus-rules serve`: check the options, load the engine, listen, serve.
    The exit status of the command: 2 when an option cannot be used (said in
    one line on stderr); otherwise 0 once stopped."""

    def refuse(message: str) -> int:
        print(f"mtus-rules: {message}", file=sys.stderr)
        return 2

    if not 0 <= port <= 65535:
        return refuse(f"--port must be 0-65535 (0 picks a free port), got {port}")
    for option, value in (("--max-body", max_body), ("--max-batch-body", max_batch_body)):
        if value is not None and value < 1:
            return refuse(f"{option} must be at least 1 byte, got {value}")
    try:
        log = None
        if decision_log is not None:
            try:
                key = read_key_file(audit_key_file) if audit_key_file is not None else None
                log = _IdLog(decision_log, include_identifying=log_identifying, mask_key=key)
            except OSError as exc:
                raise MtusRulesError(
                    [Problem(file=str(decision_log), location="--decision-log", message=exc.strerror or str(exc))]
                ) from None
        # Loaded before listening, so a bad pack stops here with its problems.
        engine = Engine(rules, decision_log=log) if rules else Engine(decision_log=log)
    except MtusRulesError as exc:
        return refuse(str(exc))
    try:
        sock = bind(host, port)
    except OSError as exc:
        return refuse(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    app = create_app(engine, max_body=max_body or DEFAULT_MAX_BODY, max_batch_body=max_batch_body or DEFAULT_MAX_BATCH_BODY)
    with sock:
        run(app, sock)
    return 0
