"""What every HTTP entrypoint shares (`tokend.api`, `tokend.web`, `tokend.verify`):
bearer parsing, authentication, error answers, and the server that runs them. No
entrypoint imports another; each imports this."""
