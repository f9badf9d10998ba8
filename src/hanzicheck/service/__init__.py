"""HTTP service and the web practice page."""
