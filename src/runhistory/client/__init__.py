"""How the SDK reaches a tracking service: in-process or over HTTP, through a batching queue."""
