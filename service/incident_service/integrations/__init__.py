"""Inbound alert endpoints: Prometheus Alertmanager webhooks and PagerDuty Events API v2."""
