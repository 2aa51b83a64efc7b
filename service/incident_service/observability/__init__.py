"""Metrics, logging, request ids and GC tuning: imported by every layer, importing none."""
