"""N cached verifications and nothing else, for counting instructions under valgrind
(bench.compare): run with N and with 0, and the difference over N is one
verification's cost, free of the machine's noise.

    python -m bench.hot_calls 50000
"""

import sys
import tempfile
from pathlib import Path

from tokend.bootstrap import bootstrap
from tokend.settings import Settings
from tokend.storage.migrate import upgrade


def main(calls: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tokend-calls-") as folder:
        services = bootstrap(Settings(database_url=f"sqlite:///{Path(folder) / 'calls.db'}"))
        try:
            upgrade(services.engine)
            secret = services.admin.create_user("bench").issued.secret
            authenticate = services.authenticator.authenticate
            authenticate(secret)  # cached from here on, as on every request after the first
            for _ in range(calls):
                authenticate(secret)
        finally:
            services.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
