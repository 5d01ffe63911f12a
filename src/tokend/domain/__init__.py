"""The domain: tokens, scopes, users and teams, and the rules between them.

Nothing here imports a web framework or a database library, so the rules can be
read, and tested, on their own.
"""
