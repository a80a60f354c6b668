"""The HTTPS front door: the load balancer's listeners, their security policies (DescribeSSLPolicies) and their
certificates (ACM), resolved here because the simulator validates neither."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from seclab.grading import CheckContext, Finding

TLS_ORDER = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def _floor(policy: Mapping[str, Any]) -> str | None:
    """The oldest protocol a security policy accepts. DescribeSSLPolicies lists SslProtocols as strings; older
    botocore shapes used {"Name": ...}; both are read."""
    names = []
    for p in policy.get("SslProtocols") or []:
        name = p.get("Name") if isinstance(p, Mapping) else p
        if name in TLS_ORDER:
            names.append(str(name))
    return min(names, key=TLS_ORDER.index) if names else None


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return None


def _redirects(listener: Mapping[str, Any]) -> bool:
    actions = listener.get("DefaultActions") or []
    return bool(actions) and all(a.get("Type") == "redirect"
                                 and str((a.get("RedirectConfig") or {}).get("Protocol", "")).upper() == "HTTPS"
                                 for a in actions)


def run(ctx: CheckContext) -> Finding:
    inv, facts = ctx.inventory, ctx.facts
    name = str(facts["load_balancer"])
    lb = next((b for b in inv.elbv2.load_balancers if b.get("LoadBalancerName") == name), None)
    if lb is None:
        return ctx.fail("no_lb", lb=name)
    listeners = [x for x in inv.elbv2.listeners if x.get("LoadBalancerArn") == lb.get("LoadBalancerArn")]
    evidence: dict[str, Any] = {"load_balancer": name, "listeners": [
        {"port": x.get("Port"), "protocol": x.get("Protocol"), "ssl_policy": x.get("SslPolicy"),
         "certificates": [c.get("CertificateArn") for c in x.get("Certificates") or []]} for x in listeners]}
    secure = [x for x in listeners if x.get("Protocol") in ("HTTPS", "TLS")]
    if not secure:
        have = ", ".join(f"{x.get('Protocol')}:{x.get('Port')}" for x in listeners)
        return ctx.fail("no_https", evidence=evidence, lb=name, listeners=f" (it has {have})" if have else "")
    policies = {str(p.get("Name")): p for p in inv.elbv2.ssl_policies}
    certs = {str(c.get("CertificateArn")): c for c in inv.acm.certificates}
    now = dt.datetime.now(dt.timezone.utc)
    problems: list[str] = []
    floors: list[str] = []
    for x in listeners:
        where = f"listener {x.get('Protocol')}:{x.get('Port')}"
        if x.get("Protocol") in ("HTTPS", "TLS"):
            pname = str(x.get("SslPolicy"))
            policy = policies.get(pname)
            floor = _floor(policy) if policy else None
            if policy is None:
                problems.append(f"{where} names security policy {pname!r}, which the load balancer service does not "
                                "offer")
            elif floor is None or TLS_ORDER.index(floor) < TLS_ORDER.index("TLSv1.2"):
                problems.append(f"{where} accepts {floor or 'unknown protocols'} (policy {pname}); use a TLS 1.2+ "
                                "policy such as ELBSecurityPolicy-TLS13-1-2-2021-06")
            else:
                floors.append(floor)
            arns = [str(c.get("CertificateArn")) for c in x.get("Certificates") or []]
            if not arns:
                problems.append(f"{where} has no certificate")
            for arn in arns:
                cert = certs.get(arn)
                if cert is None:
                    problems.append(f"{where} uses certificate {arn}, which is not in ACM")
                    continue
                not_after = _when(cert.get("NotAfter"))
                if cert.get("Status") != "ISSUED":
                    problems.append(f"{where} uses certificate {cert.get('DomainName')} in status "
                                    f"{cert.get('Status')} (it cannot serve TLS until ISSUED)")
                elif not_after is not None and not_after <= now:
                    problems.append(f"{where} uses certificate {cert.get('DomainName')}, expired on "
                                    f"{not_after.date()}")
        elif x.get("Protocol") == "HTTP" and _redirects(x):
            continue
        else:
            problems.append(f"{where} carries traffic unencrypted (make it HTTPS, or an HTTP listener that only "
                            "redirects to HTTPS)")
    if problems:
        return ctx.fail("problems", evidence=evidence, lb=name, details="; ".join(problems))
    first = secure[0]
    cert_arn = str((first.get("Certificates") or [{}])[0].get("CertificateArn"))
    domain = (certs.get(cert_arn) or {}).get("DomainName") or cert_arn
    return ctx.ok("pass", evidence=evidence, lb=name, floor=min(floors, key=TLS_ORDER.index),
                  policy=first.get("SslPolicy"), cert=domain)
