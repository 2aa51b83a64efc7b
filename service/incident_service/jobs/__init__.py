"""Timed and outbound work: every replica runs a worker that claims due jobs under a lease."""
