"""Keep secrets out of run.lock: secret-looking config keys, command-line overrides, URLs.

A run.lock is meant to be shared (copied next to results, logged to MLflow, attached
to papers), so naga never writes the value of a key that looks like a secret, nor the
credentials embedded in a URL. Matching is on *words* of the last key component, so
``db_password`` and ``AWS_SECRET_ACCESS_KEY`` are redacted while ``tokenizer``,
``max_tokens`` and ``author`` are not (ML configs are full of those).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REDACTED = "***"

#: Secret-looking words; a key is secret when its last component contains one of them
#: as a whole word sequence (``api_key`` matches ``openai_api_key`` and ``apiKey``).
DEFAULT_PATTERNS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "credential",
    "credentials",
    "auth",
)

_WORD_SPLIT = re.compile(r"[^0-9a-zA-Z]+|(?<=[a-z0-9])(?=[A-Z])")
_GLOB_CHARS = frozenset("*?[.")
# scheme://userinfo@host: userinfo runs to the last "@" before the path, so a password
# holding an unescaped "@" goes whole.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*)://(?P<userinfo>[^\s/?#]*)@")
#: Schemes whose bare user name is nearly always a token (``https://ghp_x@github.com``).
_TOKEN_USER_SCHEMES = frozenset({"http", "https", "ftp", "ftps"})
# A Hydra override or --flag carrying a value: [+|++|~]key.path=value / --flag=value.
_ASSIGNMENT = re.compile(
    r"^(?P<prefix>[+~]*|--?)(?P<key>[A-Za-z_][\w.\-/\[\]]*)=(?P<value>.*)$", re.S
)
_FLAG = re.compile(r"^--?(?P<key>[A-Za-z_][\w.\-]*)$")


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD_SPLIT.split(text) if word]


class SecretMatcher:
    """Decide whether a dotted config key names a secret.

    A pattern without glob characters or dots is a word pattern, matched against the
    words of the key's last component (case-insensitive). A pattern with ``*``, ``?``,
    ``[`` or ``.`` is a glob matched against the whole dotted key (``db.*``, ``*.dsn``).

    Args:
        extra: Patterns added to :data:`DEFAULT_PATTERNS` and ``NAGA_REDACT_KEYS``.
    """

    def __init__(self, extra: Iterable[str] = ()) -> None:
        env = os.environ.get("NAGA_REDACT_KEYS", "")
        patterns = [*DEFAULT_PATTERNS, *env.split(","), *extra]
        self.words: list[tuple[str, ...]] = []
        self.globs: list[str] = []
        for raw in patterns:
            pattern = raw.strip()
            if not pattern:
                continue
            if _GLOB_CHARS & set(pattern):
                self.globs.append(pattern.lower())
            else:
                self.words.append(tuple(_words(pattern)))

    def __call__(self, dotted_key: str) -> bool:
        """Return True when ``dotted_key`` (e.g. ``db.password``) should be redacted."""
        last = re.split(r"[.\[\]]", dotted_key.strip("[]."))[-1] if dotted_key else ""
        words = _words(last)
        for pattern in self.words:
            n = len(pattern)
            if any(tuple(words[i : i + n]) == pattern for i in range(len(words) - n + 1)):
                return True
        lowered = dotted_key.lower()
        return any(fnmatch.fnmatchcase(lowered, glob) for glob in self.globs)


def strip_url_credentials(text: str) -> str:
    """Remove the credentials of every URL inside ``text``: naga's one URL redactor.

    Credentials are dropped, not masked, so a URL stays one that works without them
    (``git clone``, the MLflow UI's links): ``https://user:pw@host/x`` and
    ``https://ghp_token@host/x`` become ``https://host/x`` (over http(s) and ftp(s) a bare
    user name is nearly always a token); other schemes keep the user name and lose the
    password (``ssh://git:pw@host`` becomes ``ssh://git@host``, ``postgresql://me:pw@db``
    becomes ``postgresql://me@db``). scp-like ``git@host:x`` and plain text are unchanged.
    A config value that lost credentials is listed under ``redacted`` in run.lock.

    Returns:
        The string without URL passwords and tokens.
    """
    if "@" not in text or "://" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        scheme, userinfo = match["scheme"].lower(), match["userinfo"]
        user, has_password, _ = userinfo.partition(":")
        if scheme in _TOKEN_USER_SCHEMES:
            return f"{scheme}://"
        if not has_password:
            return match.group(0)
        return f"{scheme}://{user}@" if user else f"{scheme}://"

    return _URL_USERINFO.sub(replace, text)


def redact_config(
    config: Any, matcher: SecretMatcher, keys: Iterable[str] = ()
) -> tuple[Any, list[str]]:
    """Return a copy of a plain config tree with secret values replaced by ``***``.

    Args:
        config: A plain tree (dicts, lists, scalars) as produced by ``to_plain``.
        keys: Dotted keys redacted regardless of their name (kept sticky across the
            ``runlock()`` calls of one run).

    Returns:
        ``(redacted tree, sorted dotted keys whose values were replaced)``. ``None`` and
        empty values are kept: they reveal nothing and say "no secret was set".
    """
    forced = set(keys)
    found: list[str] = []

    def walk(node: Any, prefix: str) -> Any:
        if isinstance(node, Mapping):
            out = {}
            for key, value in node.items():
                dotted = f"{prefix}.{key}" if prefix else str(key)
                if (dotted in forced or matcher(dotted)) and value not in (None, "", {}, []):
                    out[key] = REDACTED
                    found.append(dotted)
                else:
                    out[key] = walk(value, dotted)
            return out
        if isinstance(node, list):
            return [walk(item, f"{prefix}[{i}]") for i, item in enumerate(node)]
        if isinstance(node, str):
            stripped = strip_url_credentials(node)
            if stripped != node:
                found.append(prefix)
            return stripped
        return node

    tree = walk(config, "")
    return tree, sorted(set(found))


def redact_command(
    argv: Sequence[str], matcher: SecretMatcher, keys: Iterable[str] = ()
) -> list[str]:
    """Redact secret override values and URL credentials in a command line.

    Handles Hydra overrides (``db.password=x``, ``+token=x``, after ``-o`` or bare),
    ``--password=x`` and ``--password x``.

    Args:
        argv: The command line, e.g. ``sys.argv``.
        keys: Dotted keys redacted regardless of their name.

    Returns:
        A new list with secret values replaced by ``***``.
    """
    forced = set(keys)
    out: list[str] = []
    hide_next = False
    for token in argv:
        text = str(token)
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        assignment = _ASSIGNMENT.match(text)
        if assignment and (assignment["key"] in forced or matcher(assignment["key"])):
            out.append(f"{assignment['prefix']}{assignment['key']}={REDACTED}")
            continue
        flag = _FLAG.match(text)
        if flag and (flag["key"] in forced or matcher(flag["key"])):
            hide_next = True
        out.append(strip_url_credentials(text))
    return out


def strip_urls_everywhere(node: Any) -> Any:
    """Apply :func:`strip_url_credentials` to every string (and key) of a plain tree."""
    if isinstance(node, Mapping):
        return {
            strip_urls_everywhere(k) if isinstance(k, str) else k: strip_urls_everywhere(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [strip_urls_everywhere(item) for item in node]
    if isinstance(node, str):
        return strip_url_credentials(node)
    return node
