"""The tracking service and the records and rules it works with."""
