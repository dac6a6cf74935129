"""Feature flags for the mobile app: the engine, definitions, snapshots and their refresh."""
