"""Compatibility layers that let scripts written for other SDKs run on runhistory."""
