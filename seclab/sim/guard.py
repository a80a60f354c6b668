"""Guards that keep seclab's own processes off real AWS.

Two layers, because either alone can be bypassed by code we do not control:
- `refuse_non_local(request)`: a botocore before-send hook on every session seclab hands out. It refuses any URL
  whose host is not loopback before a byte is sent (the endpoint a learner can override per client).
- `install_socket_guard()`: wraps `socket.socket.connect` (and `socket.getaddrinfo`, so no DNS query for a remote
  name leaves either) in the calling process so that any TCP/UDP connection outside 127.0.0.0/8 and ::1 raises
  `RealAwsRefused`. The simulator process installs it (moto can make outbound
  calls, e.g. SNS HTTP subscriptions) and the test suite installs it for the whole session.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from seclab.errors import RealAwsRefused

_HINT = "seclab only talks to the simulator on 127.0.0.1; start it with `seclab sim start` and use `seclab env`."
_installed = False
_original_connect: Any = None
_original_connect_ex: Any = None
_original_getaddrinfo: Any = None


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (names other than "localhost" are never resolved here)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """Raise RealAwsRefused unless `url` points at a loopback host."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not is_loopback_host(host):
        raise RealAwsRefused(f"refusing to send a request to {host or url!r}: it is not the local simulator", _HINT)


def refuse_non_local(request: Any, **_: Any) -> None:
    """botocore `before-send` handler: refuse, before sending, any request not addressed to loopback."""
    check_url(str(getattr(request, "url", "")))


def _address_is_local(family: int, address: Any) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        # A host name: only "localhost" is allowed without resolving (resolution itself is a network call).
        return str(host).lower() == "localhost"


def _name_is_local(host: Any) -> bool:
    """May this name be resolved? IP literals (connect checks them), localhost and this machine's own name."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").lower()
    try:
        ipaddress.ip_address(name.split("%")[0])
        return True
    except ValueError:
        pass
    return name in ("localhost", socket.gethostname().lower()) or name.endswith(".localhost")


def install_socket_guard() -> None:
    """Make every socket connect outside loopback (and every DNS lookup of a remote name) raise RealAwsRefused in
    this process (idempotent)."""
    global _installed, _original_connect, _original_connect_ex, _original_getaddrinfo
    if _installed:
        return
    _original_connect = socket.socket.connect
    _original_connect_ex = socket.socket.connect_ex
    _original_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _name_is_local(host):
            raise RealAwsRefused(f"refusing to look up {host!r}: only loopback is allowed", _HINT)
        return _original_getaddrinfo(host, *args, **kwargs)

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _address_is_local(self.family, address):
            raise RealAwsRefused(f"refusing a network connection to {address!r}: only loopback is allowed", _HINT)
        return _original_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not _address_is_local(self.family, address):
            raise RealAwsRefused(f"refusing a network connection to {address!r}: only loopback is allowed", _HINT)
        return _original_connect_ex(self, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_getaddrinfo  # type: ignore[assignment]
    _installed = True


def uninstall_socket_guard() -> None:
    """Undo install_socket_guard (for tests of the guard itself)."""
    global _installed
    if not _installed:
        return
    socket.socket.connect = _original_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _original_getaddrinfo  # type: ignore[assignment]
    _installed = False


def socket_guard_installed() -> bool:
    return _installed
