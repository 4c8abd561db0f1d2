"""The SimPy model: one module per part of the flow, wired together in `system`."""

from .system import ReplicationOutput, System, simulate

__all__ = ["ReplicationOutput", "System", "simulate"]
