"""Benchmarks (see README.md). Nothing here is imported by the site."""
