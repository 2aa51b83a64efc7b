"""incident-service: a GraphQL microservice for IT incident management."""

__version__ = "0.1.0"
