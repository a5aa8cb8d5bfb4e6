"""Failure analysis: where each failure in a trace started, how it travelled, and which failures
are the same problem. Pure Python over `core.types.Span`; no storage, no I/O."""
