from hamseda.vault import crypto


def test_a_sealed_record_opens_only_with_the_secret_key():
    public_key, secret_key = crypto.generate_keypair()
    sealed = crypto.seal(public_key, {"name": "زهرا"})
    assert "زهرا".encode() not in sealed
    assert crypto.unseal(secret_key, sealed) == {"name": "زهرا"}


def test_fingerprints_ignore_case_and_spaces_but_not_dots():
    assert crypto.email_fingerprint(" A@Example.ORG ") == crypto.email_fingerprint("a@example.org")
    assert crypto.email_fingerprint("a.b@example.org") != crypto.email_fingerprint("ab@example.org")
