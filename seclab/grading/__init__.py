"""The grading framework: checks, lab manifests, the runner and the reports."""

from .checks import CheckSpec, Status, all_checks, check_library, get_check
from .context import CheckContext, Finding, LabContext
from .labs import Lab, all_labs, get_lab

__all__ = ["CheckContext", "CheckSpec", "Finding", "Lab", "LabContext", "Status", "all_checks", "all_labs", "check_library",
           "get_check", "get_lab"]
