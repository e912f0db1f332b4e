from django.db import models


class ErasureMailLimit(models.Model):
    """When an erasure link was last mailed to one address (vault.erasure), so that the
    public form at /privacy/erase/ cannot be used to mail-bomb anyone.

    The key is not the address, nor its e-mail fingerprint: it is an HMAC of the
    fingerprint under a key of its own (vault.erasure.mail_limit_key), so this table
    cannot be matched with signatures without the server secret, and an erasure leaves
    no fingerprint behind here. Rows older than the interval are deleted every hour.
    """

    key = models.CharField(max_length=64, unique=True)
    mailed_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"erasure mail at {self.mailed_at:%Y-%m-%d %H:%M}"
