"""GraphQL side of scheduled maintenance windows."""
