"""Alerts and integrations over GraphQL: intake (`reportAlert`), reads, administration."""
