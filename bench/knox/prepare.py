"""Migrate a fresh knox database, create a user and a knox token; print the token.

Run with the knox venv's python, with KNOX_BENCH_DB set and this folder on sys.path.
"""

import os

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knoxbench.settings")
    django.setup()
    # Imported after setup: Django's models need the app registry to be ready.
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from knox.models import AuthToken

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("bench", email="bench@example.com")
    # create() returns the plain token once; only its digest is stored.
    _instance, token = AuthToken.objects.create(user)
    print(token)


if __name__ == "__main__":
    main()
