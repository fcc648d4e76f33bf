"""What operators see of every process: log lines, metrics (OTLP and Prometheus), traces."""
