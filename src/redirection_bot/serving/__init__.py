"""What ``serve`` runs around the runtime: the connector protocol and its context, and what
runs beside the connectors (the admin listener, the sweeper, the desk's clock)."""
