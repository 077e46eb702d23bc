"""The HTTP server of `agentterm serve`: FastAPI routers over the store and the turn engine."""
