"""The client side of sign-in through an upstream OpenID Connect provider: its
discovery document and keys (fetched with httpx, cached), the authorization request
and code exchange (Authlib), and the id_token's verification (joserfc).

`tokend.service.upstream` holds the use cases; this package is the `IdentityProvider`
port's adapter, the only code that talks to the provider.
"""
