"""Persistence on MongoDB through PyMongo's async API."""
