"""ListObjectsV2 pages parsed at C speed.

S3 and Spaces write every Contents the same way (Key, LastModified, ETag, Size, on one line), so
one compiled regular expression over the decoded body reads a page's fields about 2.7x faster
than lxml (1.4 against 3.9 ms for a 1,000-key page, about 700k keys a second). It is taken only
when nothing can surprise it: the keys URL-encoded (no markup or entity can occur in them), one
match for every Contents, every CommonPrefixes read the same way. Anything else (another field
order, whitespace between elements, an entity, a store that ignores EncodingType) goes through
lxml, which reads any well-formed answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from urllib.parse import unquote_plus

from lxml import etree

from domain.platform.s3_rows import Rows
from domain.platform.s3_types import NotAListing, S3Object, cut_short, fast_timestamp

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

_FIELDS = (NS + "Key", NS + "LastModified", NS + "ETag", NS + "Size")
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
# A request's parameters echoed at the top of a listing (not the Prefix of CommonPrefixes).
NO_TOKEN = "page says it is truncated (IsTruncated) but gives no NextContinuationToken"
_ECHOES = re.compile(rb"<(StartAfter|Prefix|Delimiter)>[^<]*</\1>(?!</CommonPrefixes>)")


@dataclass
class Page:
    """One ListObjectsV2 answer: its objects (`Rows` from the fast path, built on first use),
    its common prefixes and where to go on."""

    objects: Sequence[S3Object] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    next_token: str | None = None


def _decode(value: str | None, url: bool) -> str:
    """A key as S3 sent it, decoded as botocore does (`unquote_plus`) when URL-encoded."""
    text = value or ""
    return _url_decoded(text) if url else text


def parse_page(data: bytes) -> Page:
    """A ListObjectsV2 XML body as a Page.

    The common case goes through `_fast_page`. Else lxml: where every Contents has Key,
    LastModified, ETag and Size in S3's order, each field is read in one C-level pass; anything
    else falls back to element by element.
    """
    fast = _fast_page(data)
    if fast is not None:
        return fast
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError:
        # Some S3-compatible stores (moto) URL-encode the keys but echo the request's own
        # Prefix/StartAfter raw, so a control character in them breaks the XML: drop the echoes
        # (the listing does not need them) and read the rest strictly.
        root = etree.fromstring(_ECHOES.sub(b"", data), PARSER)
    if root.tag != NS + "ListBucketResult":  # an error page or a proxy's HTML answered 200
        raise NotAListing(
            f"the S3 endpoint answered a bucket listing with <{root.tag}>, not S3's "
            "ListBucketResult: check DO_SPACES_ENDPOINT and DO_SPACES_BUCKET."
        )
    url = root.findtext(NS + "EncodingType") == "url"
    # One C-level walk over the four fields, which occur only inside Contents, in S3's order.
    elements = list(root.iter(*_FIELDS))
    fields = [e.text for e in elements]
    keys, stamps, etags, sizes = fields[0::4], fields[1::4], fields[2::4], fields[3::4]
    if len(fields) != 4 * data.count(b"<Contents>") or not _in_order(elements):
        contents = list(root.iterchildren(NS + "Contents"))
        keys = [c.findtext(NS + "Key") for c in contents]
        stamps = [c.findtext(NS + "LastModified") for c in contents]
        etags = [c.findtext(NS + "ETag") for c in contents]
        sizes = [c.findtext(NS + "Size") for c in contents]
    # A Contents without a Key reads as "" on both paths (the key rules ignore it), never None.
    keys = [_decode(k, url) for k in keys] if url else [k or "" for k in keys]
    times: dict[str | None, datetime | None] = {None: None}
    for stamp in set(stamps):
        times[stamp] = _timestamp(stamp)
    fields_of_objects = zip(
        keys,
        [int(z) if z else 0 for z in sizes],
        [e.strip('"') if e else "" for e in etags],
        [times[t] for t in stamps],
        strict=True,
    )
    # tuple.__new__ straight from C: a NamedTuple's own __new__ is a Python call per key.
    objects: list[S3Object] = list(map(tuple.__new__, repeat(S3Object), fields_of_objects))
    prefixes = [
        _decode(c.findtext(NS + "Prefix"), url) for c in root.iterchildren(NS + "CommonPrefixes")
    ]
    truncated = root.findtext(NS + "IsTruncated") == "true"
    token = root.findtext(NS + "NextContinuationToken") if truncated else None
    if truncated and not token:
        raise cut_short(NO_TOKEN)
    return Page(objects, prefixes, token)


def _in_order(elements: Sequence[etree._Element]) -> bool:
    """Whether the first and the last Contents hold the four fields in the order read."""
    return (
        all(tuple(e.tag for e in quartet) == _FIELDS for quartet in (elements[:4], elements[-4:]))
        if elements
        else True
    )


def _timestamp(value: str | None) -> datetime | None:
    return fast_timestamp(value) if value else None


# One Contents as S3 writes it; checksum fields some stores add between ETag and Size are skipped.
_CONTENTS = re.compile(
    r"<Contents><Key>([^<&]*)</Key><LastModified>([^<&]*)</LastModified><ETag>([^<]*)</ETag>"
    r"(?:<Checksum\w*>[^<]*</Checksum\w*>)*<Size>(\d+)</Size>"
)
_PREFIX = re.compile(r"<CommonPrefixes><Prefix>([^<&]*)</Prefix></CommonPrefixes>")
_LEADING_ZERO = re.compile(r"<Size>0\d")
_TOKEN = re.compile(r"<NextContinuationToken>([^<&]*)</NextContinuationToken>")
_URL_ENCODED = b"<EncodingType>url</EncodingType>"
# An entity other than &quot; (one pass; counting both took two, 0.3 µs a key).
_OTHER_ENTITY = re.compile(r"&(?!quot;)")


def _url_decoded(key: str) -> str:
    """As botocore's unquote_plus, without its cost on keys with no '%'."""
    return unquote_plus(key) if "%" in key else key.replace("+", " ")


def _fast_page(data: bytes) -> Page | None:
    """The page read by regular expressions, or None where lxml must read it."""
    head = data[:512]
    if b"<ListBucketResult" not in head or _URL_ENCODED not in data:
        return None
    text = data.decode()
    found = _CONTENTS.findall(text)
    if len(found) != data.count(b"<Contents>"):
        return None
    prefixes = _PREFIX.findall(text) if "<CommonPrefixes>" in text else []
    if len(prefixes) != text.count("<CommonPrefixes>"):
        return None
    if _OTHER_ENTITY.search(text):  # another entity (in an ETag): lxml decodes it
        return None
    if "<Size>0" in text and _LEADING_ZERO.search(text):  # Rows' fingerprint lines need none
        return None
    keys = [_url_decoded(k) for k, _, _, _ in found]
    token = None
    if "<IsTruncated>true</IsTruncated>" in text:
        match = _TOKEN.search(text)
        if match is None:
            return None  # lxml decides: a token with an entity, or none at all (an error)
        token = match.group(1)
        if not token:
            raise cut_short(NO_TOKEN)
    return Page(Rows(keys, found), [_url_decoded(p) for p in prefixes], token)
