"""The grading framework: checks, lab manifests, the runner and the reports."""

from .checks import CheckSpec, Status, all_checks, get_check
from .context import CheckContext, Finding, LabContext
from .labs import Lab, all_labs, get_lab

__all__ = ["CheckContext", "CheckSpec", "Finding", "Lab", "LabContext", "Status", "all_checks", "all_labs",
           "get_check", "get_lab"]
