"""Every output format: table, the JSON envelope, Nagios, Prometheus, reports."""
