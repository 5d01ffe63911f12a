import hashlib
import hmac

from tokend.domain.digest import Digester


def test_plain_digest_is_sha256_of_the_secret() -> None:
    assert Digester().digest("tkd_x") == hashlib.sha256(b"tkd_x").digest()


def test_pepper_makes_it_an_hmac() -> None:
    digest = Digester(b"pepper").digest("tkd_x")
    assert digest == hmac.new(b"pepper", b"tkd_x", hashlib.sha256).digest()
    assert digest != Digester(b"other").digest("tkd_x")


def test_pepper_stays_out_of_repr() -> None:
    assert "pepper" not in repr(Digester(b"pepper-value"))
