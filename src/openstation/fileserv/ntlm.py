"""The NT hash SMB authenticates with: MD4 of the password in UTF-16LE (MS-NLMP 3.3.1).

OpenSSL 3 no longer offers MD4 to hashlib, so pycryptodome's is used. The hash is as good
as the password to an SMB client: it is stored only sealed with the machine key.
"""

from __future__ import annotations


def nt_hash(password: str) -> str:
    """Upper-case hex, as smbpasswd files hold it."""
    from Crypto.Hash import MD4  # imported when first needed: boot does not pay for it

    return MD4.new(password.encode("utf-16-le")).hexdigest().upper()
