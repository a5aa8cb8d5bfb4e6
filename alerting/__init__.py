"""Alerting: rules (YAML and API), evaluation, and webhook delivery."""
