"""Benchmark: the seclab simulator (moto behind the gateway) against a bare `moto_server`.

Targets (issue 2): ready time <= 1.2x a bare moto_server start; per-call latency through the gateway <= 1.3x
direct moto (same calls, reused clients). Prints markdown table rows and a PASS/FAIL line per target.

usage: .venv/bin/python benchmarks/bench_sim.py [--runs 5] [--calls 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seclab.sim import guard  # noqa: E402

guard.install_socket_guard()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_server_ready_time(port: int) -> tuple[float, subprocess.Popen[bytes]]:
    exe = Path(sys.executable).with_name("moto_server")
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    env.pop("MOTO_ACCOUNT_ID", None)
    started = time.perf_counter()
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1) as resp:
                resp.read()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("moto_server exited")
            time.sleep(0.01)
    return time.perf_counter() - started, proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _seclab_ready_time(port: int) -> float:
    from seclab.sim import control

    started = time.perf_counter()
    control.start(port=port)
    elapsed = time.perf_counter() - started
    control.stop()
    return elapsed


def _median_ms(fn: Callable[[], Any], calls: int) -> float:
    for _ in range(5):
        fn()
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def _workload(session: Any, endpoint: str | None, tag: str) -> dict[str, Callable[[], Any]]:
    from botocore.config import Config

    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0})
    kw = {"endpoint_url": endpoint, "config": cfg} if endpoint else {"config": cfg}
    iam, s3, ec2, kms, sm = (session.client(s, **kw) for s in ("iam", "s3", "ec2", "kms", "sagemaker"))
    iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")
    bucket = f"bench-{tag}"
    s3.create_bucket(Bucket=bucket)
    for i in range(20):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x" * 1024)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ec2.describe_vpcs()
    sm.list_models()
    counter = iter(range(10**9))
    return {
        "iam.get_role": lambda: iam.get_role(RoleName="bench"),
        "s3.list_objects_v2 (20)": lambda: s3.list_objects_v2(Bucket=bucket),
        "s3.put_object 1 KiB": lambda: s3.put_object(Bucket=bucket, Key=f"p{next(counter) % 50}", Body=b"y" * 1024),
        "s3.get_object 1 KiB": lambda: s3.get_object(Bucket=bucket, Key="k1")["Body"].read(),
        "ec2.describe_vpcs": lambda: ec2.describe_vpcs(),
        "kms.describe_key": lambda: kms.describe_key(KeyId=key),
        "sagemaker.list_models": lambda: sm.list_models(),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    import boto3

    with tempfile.TemporaryDirectory(prefix="seclab-bench-") as tmp:
        os.environ["SECLAB_STATE_DIR"] = tmp
        os.environ["SECLAB_TRAIL_INTERVAL"] = "60"
        from seclab.sim import control, registry, sessions

        registry.add_learner("bench")
        moto_ready, seclab_ready = [], []
        for _ in range(args.runs):
            port = _free_port()
            elapsed, proc = _moto_server_ready_time(port)
            moto_ready.append(elapsed)
            _stop(proc)
            seclab_ready.append(_seclab_ready_time(_free_port()))

        moto_port = _free_port()
        _, moto_proc = _moto_server_ready_time(moto_port)
        try:
            control.start(port=_free_port())
            direct = boto3.session.Session(aws_access_key_id="AKIADIRECTMOTO000000", aws_secret_access_key="x",
                                           region_name="us-east-1")
            direct_calls = _workload(direct, f"http://127.0.0.1:{moto_port}", "direct")
            gateway_calls = _workload(sessions.learner_session("bench"), None, "gateway")
            rows = []
            for name in direct_calls:
                # interleave to share the machine's noise fairly
                d1 = _median_ms(direct_calls[name], args.calls // 2)
                g1 = _median_ms(gateway_calls[name], args.calls // 2)
                d2 = _median_ms(direct_calls[name], args.calls // 2)
                g2 = _median_ms(gateway_calls[name], args.calls // 2)
                rows.append((name, (d1 + d2) / 2, (g1 + g2) / 2))
        finally:
            control.stop()
            _stop(moto_proc)

    cpu = platform.processor() or platform.machine()
    print(f"machine: {platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
          f"Python {platform.python_version()}; {args.runs} starts, {args.calls} calls per operation (median)")
    print()
    print("| metric | bare moto_server | seclab sim (gateway) | ratio | target |")
    print("|---|---|---|---|---|")
    m, s = statistics.median(moto_ready), statistics.median(seclab_ready)
    ready_ratio = s / m
    print(f"| ready time (median of {args.runs}) | {m:.2f} s | {s:.2f} s | {ready_ratio:.2f}x | <= 1.2x |")
    ratios = []
    for name, d, g in rows:
        ratios.append(g / d)
        print(f"| {name} | {d:.2f} ms | {g:.2f} ms | {g / d:.2f}x | <= 1.3x |")
    total_d = sum(d for _, d, _ in rows)
    total_g = sum(g for _, _, g in rows)
    call_ratio = total_g / total_d
    print(f"| per-call latency, all operations | {total_d / len(rows):.2f} ms | {total_g / len(rows):.2f} ms | "
          f"{call_ratio:.2f}x | <= 1.3x |")
    print()
    print(f"ready time: {ready_ratio:.2f}x -> {'PASS' if ready_ratio <= 1.2 else 'FAIL'} (target <= 1.2x)")
    print(f"per-call latency: {call_ratio:.2f}x -> {'PASS' if call_ratio <= 1.3 else 'FAIL'} (target <= 1.3x)")
    return 0 if ready_ratio <= 1.2 and call_ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
