"""Bytes and 8-bit header text -> str for any charset label a mailer writes, right or wrong.

One place for the charset guesses, so a mail's headers and its body read alike.
"""

from __future__ import annotations

import codecs
import re

# Charset labels seen in the wild that Python's codec registry does not know.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "x-user-defined": "windows-1252",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "utf8": "utf-8",
    "cp-850": "cp850",
}
_SURROGATES = re.compile("[\udc80-\udcff]")
# A legacy 8-bit header without a declared charset: Serbian mail is most often Windows Central
# European, and the body's fallback (decode_bytes) makes the same guess, so one mail reads alike.
LEGACY_HEADER_CODEC = "windows-1250"


def codec_for(charset: str | None) -> str | None:
    label = (charset or "").strip().strip('"').lower()
    if not label:
        return None
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset; mislabelled or unknown charsets fall back sanely."""
    codec = codec_for(charset)
    if codec in (None, "ascii"):
        codec = None
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Serbian mail without a (correct) label is most often Windows Central European.
        return data.decode(codec or "windows-1250", "replace")


def decode_8bit(value: str, legacy: str = LEGACY_HEADER_CODEC) -> str:
    """A header value read from bytes (non-ASCII bytes surrogate-escaped) as real text.

    RFC 6532 headers are UTF-8; older mailers send raw bytes of a local charset. UTF-8 first,
    then the legacy codec, so no surrogate escape ever reaches the store.
    """
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(legacy, "replace")
