"""The network engine: reachability with explanations, exposure summaries and probes that leave flow-log evidence.

Pure functions over the inventory (no boto3): `reach(inventory, query)`, `exposure(inventory, destination, port)`,
`probe(inventory, query) -> ProbeResult` (what `seclab.effects.flowlogs.write` records). The inventory may be an
AccountInventory or, for paths that cross accounts, an OrgInventory; the typed model is built once per inventory.
"""

from __future__ import annotations

from .exposure import exposure, exposure_text
from .model import NetModel, build_model, model_of
from .probe import FlowLogRecord, ProbeResult, probe
from .reach import KINDS, UnknownComponent, parse_query, reach, text

__all__ = [
    "KINDS",
    "FlowLogRecord",
    "NetModel",
    "ProbeResult",
    "UnknownComponent",
    "build_model",
    "exposure",
    "exposure_text",
    "model_of",
    "parse_query",
    "probe",
    "reach",
    "text",
]
