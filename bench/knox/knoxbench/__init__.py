"""A minimal Django REST framework + knox project: the Python peer in the HTTP benchmark.

It runs in its own venv (bench/.venv-knox), never in tokend's: see bench/knox_peer.py.
"""
