"""``policy.default`` that parses each distinct header value once.

The standard library builds a new structured header object on every ``msg[name]`` / ``msg.get``
(the header registry's parser is slow), and one mail's headers are read dozens of times: the
content type while walking its parts, the classifier's checks, the sender and the thread ids. A
profile of the spool worker put about 8 of every 9 ms of parsing and classifying a plain mail
there. Header objects are immutable, so one parse per (name, value) serves every reader, in every
mail: a small bounded cache, and values past a few KB (spam, attacks) are never kept.
"""

from __future__ import annotations

import functools
import re
from email.policy import EmailPolicy
from typing import Any

CACHED_VALUE_CHARS = 2_048
CACHED_HEADERS = 2_048
_LINESEP = re.compile(r"\n|\r")  # what the stdlib strips (not splitlines(): it splits on more)


@functools.lru_cache(maxsize=CACHED_HEADERS)
def _parsed(factory: Any, name: str, value: str) -> Any:
    return factory(name, "".join(_LINESEP.split(value)))


class CachingPolicy(EmailPolicy):
    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or len(value) > CACHED_VALUE_CHARS:
            return super().header_fetch_parse(name, value)
        return _parsed(self.header_factory, name, value)


MAIL_POLICY = CachingPolicy()  # the settings of policy.default
