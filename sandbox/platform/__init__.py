"""The sandbox LMS platform, without any web framework: one module per LTI service, combined in
:class:`~sandbox.platform.core.SandboxPlatform` (see that module for the map)."""

from sandbox.platform.core import SandboxPlatform

__all__ = ["SandboxPlatform"]
