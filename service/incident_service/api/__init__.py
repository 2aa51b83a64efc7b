"""The GraphQL API: per-domain parts assembled into one schema in schema.py."""
