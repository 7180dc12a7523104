"""`make loadtest`: GeraOS in its production shape under a locust load (README "Benchmarks")."""
