"""The simulator process: moto's WSGI app behind the gateway, served by werkzeug on 127.0.0.1.

Run by `seclab.sim.control.start` as `python -m seclab.sim.server --port N` with SECLAB_STATE_DIR and
SECLAB_SIM_TOKEN in its environment. Start-up order matters:
1. moto's settings are environment variables read at import: AWS managed policies on, MOTO_ACCOUNT_ID unset (it
   would pin every learner to one account), cross-account S3 off (the fidelity patch re-allows it within a learner).
2. The socket guard goes in, so nothing in this process (e.g. moto's SNS HTTP delivery) can reach past loopback.
3. The port is bound before the journal is replayed, so nobody else can take it meanwhile; /_seclab/health answers
   "ready" only once the replay is done.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import signal
import sys
import threading
import time
from typing import Any


def _prepare_environment() -> None:
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    os.environ["MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS"] = "false"
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
    # botocore (imported by moto) must not read the operator's real AWS config or credentials.
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)


def _seed() -> int:
    from seclab.sim import state

    path = state.seed_file()
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        seed = secrets.randbelow(2**31)
        state.write_private(path, f"{seed}\n")
        return seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seclab.sim.server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-replay", action="store_true", help="ignore the journal (start empty)")
    args = parser.parse_args(argv)

    _prepare_environment()
    from seclab.sim import guard

    guard.install_socket_guard()

    token = os.environ.pop("SECLAB_SIM_TOKEN", "") or secrets.token_hex(16)
    token_sha256 = hashlib.sha256(token.encode()).hexdigest()

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    from seclab.sim import audit, fidelity, state
    from seclab.sim.gateway import Gateway, Identities
    from seclab.sim.journal import Journal

    class QuietHandler(MotoRequestHandler):
        """moto's handler without a log line per request (the audit log is the request log)."""

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            return None

    seed = _seed()
    identities = Identities()
    fidelity.set_owner_check(identities.same_owner)
    fidelity.apply(seed)

    moto_app = DomainDispatcherApplication(create_backend_app)
    journal = Journal()
    audit_log = audit.AuditLog()
    gateway = Gateway(moto_app, token_sha256, journal, audit_log, identities)
    gateway.pid = os.getpid()
    gateway.port = args.port
    delivery = audit.TrailDelivery(audit_log, gateway.run_locked, journal.append, identities.same_owner)
    gateway.delivery = delivery

    server = make_server(state.HOST, args.port, gateway, threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True  # type: ignore[attr-defined]

    def shutdown(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)

    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()  # health answers "not ready" while we replay

    if not args.no_replay and state.journal_file().exists():
        started = time.monotonic()

        def replay_call(environ: dict[str, Any], service: str) -> None:
            with gateway.lock:
                if service == "cloudformation":
                    fidelity.ensure_cloudformation()
                try:
                    gateway.call_moto(environ)
                except Exception as exc:  # noqa: BLE001 - a call that failed originally fails again
                    print(f"seclab-sim: replay: {type(exc).__name__}: {exc}", file=sys.stderr)

        gateway.restored = journal.replay(replay_call, lambda entry: gateway.run_locked(
            lambda: delivery.apply_journal(entry)))
        print(f"seclab-sim: replayed {gateway.restored} journal entries in {time.monotonic() - started:.2f} s",
              file=sys.stderr, flush=True)
    gateway.ready = True
    print(f"seclab-sim: ready on http://{state.HOST}:{args.port} (pid {os.getpid()}, seed {seed})",
          file=sys.stderr, flush=True)

    interval = float(os.environ.get("SECLAB_TRAIL_INTERVAL", "5"))
    stop = threading.Event()

    def flusher() -> None:
        while not stop.wait(interval):
            try:
                delivery.flush()
            except Exception as exc:  # noqa: BLE001 - keep delivering; report in the log
                print(f"seclab-sim: trail delivery failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    threading.Thread(target=flusher, daemon=True).start()
    try:
        while serving.is_alive():
            serving.join(0.5)
    finally:
        stop.set()
        try:
            delivery.flush()
        except Exception:  # noqa: BLE001
            pass
        journal.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
