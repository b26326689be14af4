"""The ``runhistory`` command line: a thin shell over the SDK and the tracking service."""
