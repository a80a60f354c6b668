"""Write a probe's VPC Flow Log records into CloudWatch Logs, as the flow-log service would.

Each record goes to the flow log's log group, in a stream named after the network interface (AWS's naming), with
the record's end time as the event timestamp. A missing log group is created (the flow-log service creates it on
AWS when its role may). Records only ever go to accounts the learner owns.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from seclab.engines.net.probe import FlowLogRecord, ProbeResult
from seclab.errors import EvaluationError, Refused, SimulatorUnavailable


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def write(learner: Any, result: ProbeResult) -> dict[str, Any]:
    """Put `result.records` into CloudWatch Logs with the admin session of each record's account.

    `learner` is a learner name or a seclab.sim.registry.Learner. Returns {"written": n, "streams": [...]}."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    from seclab.sim import registry, sessions

    rec = registry.get_learner(learner) if isinstance(learner, str) else learner
    grouped: dict[tuple[str, str, str], list[FlowLogRecord]] = defaultdict(list)
    for r in result.records:
        if r.account not in rec.accounts:
            raise Refused(f"flow-log record for account {r.account}, which learner {rec.name!r} does not own",
                          "seclab writes evidence only into the learner's own accounts.")
        grouped[(r.account, r.log_group, r.log_stream)].append(r)
    streams = []
    clients: dict[str, Any] = {}
    groups_ready: set[tuple[str, str]] = set()
    try:
        for (account, group, stream), records in sorted(grouped.items()):
            logs = clients.get(account)
            if logs is None:
                logs = clients[account] = sessions.admin_session(account).client("logs")
            if (account, group) not in groups_ready:
                found = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
                if not any(g.get("logGroupName") == group for g in found):
                    try:
                        logs.create_log_group(logGroupName=group)
                    except ClientError as exc:
                        if _code(exc) != "ResourceAlreadyExistsException":
                            raise
                groups_ready.add((account, group))
            try:
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            except ClientError as exc:
                if _code(exc) != "ResourceAlreadyExistsException":
                    raise
            events = [{"timestamp": r.timestamp_ms, "message": r.message}
                      for r in sorted(records, key=lambda r: r.timestamp_ms)]
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
            streams.append({"account": account, "log_group": group, "log_stream": stream, "events": len(events)})
    except EndpointConnectionError as exc:
        raise SimulatorUnavailable("the simulator did not answer while writing flow-log records",
                                   "Is it running? Try: seclab sim status.") from exc
    except (ClientError, BotoCoreError) as exc:
        raise EvaluationError(f"could not write flow-log records: {exc}") from exc
    return {"written": sum(s["events"] for s in streams), "streams": streams}
