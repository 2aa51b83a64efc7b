"""GraphQL side of incidents: types, inputs, queries, mutations."""
