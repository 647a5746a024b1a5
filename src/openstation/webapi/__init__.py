"""The DSM-compatible Web API: routing, the API registry, one module per API family."""
