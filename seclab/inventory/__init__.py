"""One read-only snapshot of an account or organization as plain typed data (see model.py)."""

from .model import AccountInventory, Bucket, Key, OrgInventory

__all__ = ["AccountInventory", "Bucket", "Key", "OrgInventory"]
