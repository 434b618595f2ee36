"""Benchmarks of polaris-sync against the sandbox servers (`make bench`)."""
