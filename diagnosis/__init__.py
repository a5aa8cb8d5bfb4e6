"""Diagnosis: the failure analysis of `analysis` run over what storage reads, with what only storage
can add (versions first seen, attribute deltas). The API and alerting both report through it."""
