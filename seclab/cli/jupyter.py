"""`seclab jupyter`: open JupyterLab on the labs, with the learner's simulator environment."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from typing import Any

from seclab.errors import NotFound


def cmd_jupyter(args: argparse.Namespace) -> int:
    from seclab.paths import content_root, labs_dir
    from seclab.sim import control, sessions

    if not control.status().running:
        control.start()
    learner = args.learner or os.environ.get("SECLAB_LEARNER") or "default"
    env = sessions.scrubbed_environ(learner)  # real AWS variables removed, the learner's simulator ones set
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    token = secrets.token_urlsafe(24)
    jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or shutil.which("jupyter")
    if not jupyter:
        raise NotFound("JupyterLab is not installed in this environment", "Run: make setup")
    config = content_root() / "env" / "jupyter" / "jupyter_server_config.py"
    url = f"http://127.0.0.1:{args.port}/lab?token={token}"
    print(f"seclab: JupyterLab for learner {learner} on the labs: {url}", flush=True)
    print("seclab: the simulator keeps running after you stop JupyterLab (seclab sim stop ends it).", flush=True)
    cmd = [jupyter, "lab", f"--config={config}", f"--ServerApp.root_dir={labs_dir()}", f"--port={args.port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    if args.no_browser:
        cmd.append("--no-browser")
    if args.ip:
        cmd.append(f"--ServerApp.ip={args.ip}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # containers and CI machines often run as root; JupyterLab refuses that unless told
        print("seclab: running as root; JupyterLab is started with allow_root.", file=sys.stderr, flush=True)
        cmd.append("--ServerApp.allow_root=True")
    os.execve(jupyter, cmd, env)
    return 0  # not reached


def register(sub: Any) -> None:
    p = sub.add_parser("jupyter", help="open JupyterLab on the labs as a learner (starts the simulator if needed)")
    p.add_argument("--learner", default=None)
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true", help="print the URL only (the default on headless machines)")
    p.add_argument("--ip", default=None, help="listen address (default 127.0.0.1; containers use 0.0.0.0)")
    p.set_defaults(func=cmd_jupyter)
