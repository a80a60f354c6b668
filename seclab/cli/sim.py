"""`seclab sim start | stop | status | restore`: run the simulated cloud in the background."""

from __future__ import annotations

import argparse
import sys

from seclab.cli import emit_json
from seclab.errors import ExitCode, SimulatorUnavailable
from seclab.sim import control, state


def _port(text: str) -> int:
    try:
        return control.validate_port(text)
    except Exception:  # noqa: BLE001 - argparse turns this into a one-line usage error
        raise argparse.ArgumentTypeError(f"invalid port {text!r} (use 1-65535)") from None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sim = subparsers.add_parser("sim", help="start, stop, inspect or restore the simulator",
                                description="The simulated AWS cloud (moto behind seclab's gateway) on 127.0.0.1.")
    sub = sim.add_subparsers(dest="sim_command", metavar="ACTION", parser_class=type(sim))
    start = sub.add_parser("start", help="start the simulator in the background (restores the journal)")
    start.add_argument("--port", type=_port, default=None, help=f"port on 127.0.0.1 (default {state.DEFAULT_PORT})")
    start.add_argument("--fresh", action="store_true", help="discard everything built so far and start empty")
    start.add_argument("--format", choices=("text", "json"), default="text")
    start.set_defaults(func=_start)
    stop = sub.add_parser("stop", help="stop the simulator (what was built is kept in the journal)")
    stop.set_defaults(func=_stop)
    status = sub.add_parser("status", help="is the simulator up? (exit 0 only while it is)")
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.set_defaults(func=_status)
    restore = sub.add_parser("restore", help="restart the simulator and rebuild every learner's state")
    restore.add_argument("--format", choices=("text", "json"), default="text")
    restore.set_defaults(func=_restore)
    sim.set_defaults(func=lambda args: (sim.print_help(), ExitCode.USAGE)[1])


def _start(args: argparse.Namespace) -> int:
    before = control.status()
    info = control.start(port=args.port, fresh=args.fresh)
    if args.format == "json":
        emit_json({"running": True, **info.to_json(), "already_running": before.running})
        return ExitCode.OK
    if before.running:
        print(f"seclab simulator already running at {info.endpoint} (pid {info.pid}).")
        if args.port is not None and args.port not in (0, info.port):
            print(f"note: it runs on port {info.port}, not {args.port}; stop it first to change port.",
                  file=sys.stderr)
        return ExitCode.OK
    if info.restored:
        print(f"Restored {info.restored} journaled calls (every learner's resources, same ids).")
    print(f"seclab simulator running at {info.endpoint} (pid {info.pid}).")
    return ExitCode.OK


def _stop(args: argparse.Namespace) -> int:
    if control.stop():
        print("seclab simulator stopped (state is kept; `seclab sim start` restores it).")
    else:
        print("seclab simulator was not running.")
    return ExitCode.OK


def _status(args: argparse.Namespace) -> int:
    st = control.status()
    if args.format == "json":
        emit_json(st.to_json())
        return ExitCode.OK if st.running else ExitCode.SIMULATOR_DOWN
    if st.running:
        print(f"seclab simulator running at {st.endpoint} (pid {st.pid}).")
        return ExitCode.OK
    raise SimulatorUnavailable("the simulator is not running", "Start it with: seclab sim start")


def _restore(args: argparse.Namespace) -> int:
    info = control.restore()
    if args.format == "json":
        emit_json({"running": True, **info.to_json()})
    else:
        print(f"Restored {info.restored} journaled calls; seclab simulator running at {info.endpoint} "
              f"(pid {info.pid}).")
    return ExitCode.OK
