"""Benchmarks of tokend against its stack's ceiling and a Python peer (django-rest-knox)."""
