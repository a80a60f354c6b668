"""In transit beyond S3: load-balancer listeners (protocol, TLS policy, certificate) and interface endpoints.

Why from configuration: the simulator carries no traffic, so what protects data in transit is what the listener
accepts. A listener protects traffic when it speaks HTTPS/TLS (or only redirects HTTP to HTTPS) with a security
policy whose oldest protocol is at least TLS 1.2 and a certificate that is issued and not expired. The simulator
accepts any SslPolicy name (moto-feasibility §1.10), so a policy missing from DescribeSSLPolicies is a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from seclab.inventory.model import AccountInventory

from .findings import NOT_APPLICABLE_AT_REST, Finding

TLS_ORDER: tuple[str, ...] = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
MIN_GOOD_TLS = "TLSv1.2"
_TLS_PROTOCOLS = frozenset({"HTTPS", "TLS"})


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def min_tls(policy: Mapping[str, Any] | None) -> str | None:
    """The oldest protocol an ELB security policy accepts ("TLSv1.2"), None when the policy is unknown."""
    if not policy:
        return None
    # DescribeSSLPolicies gives SslProtocols as strings ("TLSv1.2"); tolerate {"Name": ...} records too
    raw = [p.get("Name") if isinstance(p, Mapping) else p for p in policy.get("SslProtocols") or []]
    names = [str(n) for n in raw if n in TLS_ORDER]
    return min(names, key=TLS_ORDER.index) if names else None


def _certificate(inv: AccountInventory, arn: str, now: datetime) -> tuple[dict[str, Any], list[Finding]]:
    cert = next((c for c in inv.acm.certificates if c.get("CertificateArn") == arn), None)
    if cert is None:
        if ":iam::" in arn:
            return {"arn": arn, "status": None, "not_after": None, "expired": None, "source": "iam"}, []
        return ({"arn": arn, "status": "NotFound", "not_after": None, "expired": None},
                [Finding("listener_certificate_not_found", "high",
                         f"The listener's certificate {arn} does not exist in ACM: clients could not complete a "
                         "TLS handshake.")])
    status = cert.get("Status")
    not_after = _aware(cert.get("NotAfter"))
    expired = bool(not_after and not_after <= now) or status == "EXPIRED"
    findings: list[Finding] = []
    if expired:
        findings.append(Finding("listener_certificate_expired", "high",
                                f"Certificate {arn} ({cert.get('DomainName')}) expired on {_iso(not_after)}: "
                                "clients reject the connection or learn to click through warnings."))
    elif status != "ISSUED":
        findings.append(Finding("listener_certificate_not_issued", "high",
                                f"Certificate {arn} ({cert.get('DomainName')}) is {status}, not ISSUED: it cannot "
                                "serve TLS yet."))
    return ({"arn": arn, "domain": cert.get("DomainName"), "status": status, "not_after": _iso(not_after),
             "expired": expired, "type": cert.get("Type")}, findings)


def _redirects_to_https(listener: Mapping[str, Any]) -> bool:
    actions = listener.get("DefaultActions") or []
    return bool(actions) and all(
        a.get("Type") == "redirect" and str((a.get("RedirectConfig") or {}).get("Protocol", "")).upper() == "HTTPS"
        for a in actions)


def listener(inv: AccountInventory, lst: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """One listener: does it protect traffic in transit, with which TLS floor and certificate."""
    protocol = str(lst.get("Protocol") or "")
    port = lst.get("Port")
    arn = str(lst.get("ListenerArn"))
    findings: list[Finding] = []
    out: dict[str, Any] = {"arn": arn, "port": port, "protocol": protocol, "ssl_policy": lst.get("SslPolicy"),
                           "min_tls_version": None, "certificates": [], "redirects_to_https": False}
    if protocol in _TLS_PROTOCOLS:
        name = lst.get("SslPolicy")
        policy = next((p for p in inv.elbv2.ssl_policies if p.get("Name") == name), None)
        floor = min_tls(policy)
        out["min_tls_version"] = floor
        if policy is None:
            findings.append(Finding("listener_ssl_policy_unknown", "medium",
                                    f"Listener {protocol}:{port} names security policy {name!r}, which the load "
                                    "balancer service does not offer: its TLS versions are unknown."))
        elif floor is not None and TLS_ORDER.index(floor) < TLS_ORDER.index(MIN_GOOD_TLS):
            findings.append(Finding("listener_weak_tls", "medium",
                                    f"Listener {protocol}:{port} accepts {floor} (policy {name}): require TLS 1.2 "
                                    "or newer, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06."))
        for c in lst.get("Certificates") or []:
            cert, cert_findings = _certificate(inv, str(c.get("CertificateArn")), now)
            out["certificates"].append(cert)
            findings += cert_findings
        if not out["certificates"]:
            findings.append(Finding("listener_no_certificate", "high",
                                    f"Listener {protocol}:{port} has no certificate."))
        tls: bool | None = True
    elif protocol == "HTTP" and _redirects_to_https(lst):
        out["redirects_to_https"] = True
        tls = True
    elif protocol == "GENEVE":
        tls = None  # a Gateway Load Balancer forwards packets; TLS is the appliances' business
    else:
        tls = False
        findings.append(Finding("listener_plain_text", "high",
                                f"Listener {protocol}:{port} carries traffic unencrypted: use HTTPS/TLS, or make "
                                "the HTTP listener only redirect to HTTPS."))
    out["tls_enforced"] = tls
    out["findings"] = [f.to_dict() for f in findings]
    return out


def load_balancer(inv: AccountInventory, lb: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A load balancer enforces TLS when every listener does; its TLS floor is its weakest listener's."""
    now = now or datetime.now(timezone.utc)
    arn = str(lb.get("LoadBalancerArn"))
    listeners = [listener(inv, lst, now) for lst in inv.elbv2.listeners if lst.get("LoadBalancerArn") == arn]
    judged = [x["tls_enforced"] for x in listeners if x["tls_enforced"] is not None]
    tls = all(judged) if judged else None
    floors = [x["min_tls_version"] for x in listeners if x["min_tls_version"]]
    findings = [dict(f, listener=x["arn"]) for x in listeners for f in x["findings"]]
    if not listeners:
        findings.append(Finding("load_balancer_no_listeners", "info",
                                f"Load balancer {lb.get('LoadBalancerName')} has no listeners.").to_dict())
    return {
        "arn": arn,
        "type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "account": inv.account_id,
        "name": lb.get("LoadBalancerName"),
        "at_rest": dict(NOT_APPLICABLE_AT_REST),
        "in_transit": {"tls_enforced": tls,
                       "min_tls_version": min(floors, key=TLS_ORDER.index) if floors else None,
                       "listeners": listeners},
        "scheme": lb.get("Scheme"),
        "lb_type": lb.get("Type"),
        "findings": findings,
    }


def vpc_endpoint(inv: AccountInventory, ep: Mapping[str, Any]) -> dict[str, Any] | None:
    """An interface endpoint keeps service traffic on the AWS network; with private DNS on, SDKs using the
    service's usual hostname (and its TLS certificate) reach it without any change. Gateway endpoints: None."""
    if str(ep.get("VpcEndpointType") or "") != "Interface":
        return None
    eid = str(ep.get("VpcEndpointId"))
    private_dns = bool(ep.get("PrivateDnsEnabled"))
    findings: list[Finding] = []
    if not private_dns:
        findings.append(Finding("endpoint_private_dns_off", "low",
                                f"Interface endpoint {eid} ({ep.get('ServiceName')}) has private DNS off: clients "
                                "using the service's normal hostname bypass it and leave the VPC."))
    owner = ep.get("OwnerId") or inv.account_id
    return {
        "arn": f"arn:aws:ec2:{inv.region}:{owner}:vpc-endpoint/{eid}",
        "type": "AWS::EC2::VPCEndpoint",
        "account": inv.account_id,
        "name": eid,
        "at_rest": dict(NOT_APPLICABLE_AT_REST),
        "in_transit": {"tls_enforced": None, "private_dns_enabled": private_dns},
        "service_name": ep.get("ServiceName"),
        "vpc_id": ep.get("VpcId"),
        "findings": [f.to_dict() for f in findings],
    }
