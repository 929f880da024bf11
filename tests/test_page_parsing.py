"""A ListObjectsV2 page reads the same whichever parser takes it: the regular-expression fast
path (S3's compact layout, keys URL-encoded) and lxml (anything else). What a user would notice
if they differed: a key with an emoji, '&', '<', '+', '%' or a space synced under another name,
a missing object, a wrong size or ETag, or a listing that stops early or never ends."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.catalogue.diff import hash_lines, listing_hash
from domain.platform import s3_pages
from domain.platform.s3_pages import Page, parse_page
from domain.platform.s3_rows import Rows
from domain.platform.s3_types import ListingCutShort, S3Object
from tests.test_listing import HOSTILE

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
)


def s3_page(
    objects: list[tuple[str, int, str]],
    prefixes: list[str] = (),  # type: ignore[assignment]
    token: str | None = None,
    *,
    indent: bool = False,
    checksum: bool = False,
    quotes: str = "&quot;",
    encode: bool = True,
) -> bytes:
    """A page as S3 writes it (one line), or indented, which only lxml reads."""
    sep = "\n  " if indent else ""

    def enc(key: str) -> str:
        if encode:
            return quote_plus(key, safe="/")
        return key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    parts = [HEAD, sep, "<Name>b</Name>", sep, "<Prefix></Prefix>", sep]
    if encode:
        parts += ["<EncodingType>url</EncodingType>", sep]
    parts += [f"<IsTruncated>{'true' if token else 'false'}</IsTruncated>", sep]
    for key, size, etag in objects:
        extra = "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>" if checksum else ""
        parts += [
            f"<Contents>{sep}<Key>{enc(key)}</Key>{sep}"
            f"<LastModified>2026-11-01T10:00:00.000Z</LastModified>{sep}"
            f"<ETag>{quotes}{etag}{quotes}</ETag>{extra}{sep}<Size>{size}</Size>{sep}"
            f"<StorageClass>STANDARD</StorageClass></Contents>",
            sep,
        ]
    for prefix in prefixes:
        parts += [f"<CommonPrefixes>{sep}<Prefix>{enc(prefix)}</Prefix></CommonPrefixes>", sep]
    if token:
        parts += [f"<NextContinuationToken>{token}</NextContinuationToken>", sep]
    parts.append("</ListBucketResult>")
    return "".join(parts).encode()


def read_both(**page: object) -> tuple[Page, Page]:
    """The compact page through parse_page (fast path) and the same page indented (lxml)."""
    compact = s3_page(**page)  # type: ignore[arg-type]
    assert s3_pages._fast_page(compact) is not None, "the compact page must take the fast path"
    indented = s3_page(**page, indent=True)  # type: ignore[arg-type]
    if page.get("objects") or page.get("prefixes"):
        assert s3_pages._fast_page(indented) is None, "an indented page must go to lxml"
    return parse_page(compact), parse_page(indented)


WHEN = datetime(2026, 11, 1, 10, tzinfo=UTC)


def test_hostile_keys_read_the_same_on_both_paths() -> None:
    keys = [*HOSTILE, "a+b c%2Fd/p/x.jpg", "100%/p/é.jpg"]
    objects = [(k, i * 7, f"{i:032x}") for i, k in enumerate(keys)]
    fast, slow = read_both(objects=objects, prefixes=["a+b c/", "😀/"], token="tok+/=")
    assert fast == slow
    assert [o.key for o in fast.objects] == keys
    assert [(o.size, o.etag, o.last_modified) for o in fast.objects[:2]] == [
        (0, f"{0:032x}", WHEN),
        (7, f"{1:032x}", WHEN),
    ]
    assert fast.prefixes == ["a+b c/", "😀/"] and fast.next_token == "tok+/="


@pytest.mark.parametrize("quotes", ["&quot;", '"', ""])
def test_checksums_and_every_way_of_quoting_an_etag(quotes: str) -> None:
    objects = [("m/p/a.jpg", 5, "abc"), ("m/p/b.jpg", 6, "def-2")]
    fast, slow = read_both(objects=objects, checksum=True, quotes=quotes)
    assert fast == slow and [o.etag for o in fast.objects] == ["abc", "def-2"]


def test_a_page_without_url_encoding_goes_to_lxml_and_still_reads_exactly() -> None:
    body = s3_page([("a&b/<p>/x.jpg", 1, "e")], encode=False)
    assert s3_pages._fast_page(body) is None
    assert [o.key for o in parse_page(body).objects] == ["a&b/<p>/x.jpg"]


def test_an_empty_last_page_ends_the_listing() -> None:
    fast, slow = read_both(objects=[])
    assert fast == slow == Page([], [], None)


@pytest.mark.parametrize("indent", [False, True], ids=["fast path", "lxml"])
@pytest.mark.parametrize(
    "token", [None, ""], ids=["no NextContinuationToken", "an empty NextContinuationToken"]
)
def test_a_truncated_page_without_its_token_is_an_error_not_the_end(
    indent: bool, token: str | None
) -> None:
    body = s3_page([("m/p/a.jpg", 1, "e")], indent=indent).replace(
        b"<IsTruncated>false</IsTruncated>", b"<IsTruncated>true</IsTruncated>"
    )
    if token is not None:
        body = body.replace(
            b"</ListBucketResult>",
            b"<NextContinuationToken></NextContinuationToken></ListBucketResult>",
        )
    with pytest.raises(ListingCutShort, match="IsTruncated"):
        parse_page(body)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40),
            st.integers(min_value=0, max_value=5 * 2**40),
            st.text("0123456789abcdef-", min_size=1, max_size=40),
        ),
        max_size=30,
    ),
    st.lists(st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1), max_size=5),
)
def test_any_page_reads_the_same_on_both_paths(
    objects: list[tuple[str, int, str]], prefixes: list[str]
) -> None:
    fast, slow = read_both(objects=objects, prefixes=prefixes, token="t")
    assert fast == slow
    assert [o.key for o in fast.objects] == [k for k, _, _ in objects]


def test_keys_encoded_with_percent_twenty_read_as_spaces() -> None:
    body = s3_page([]).replace(
        b"</ListBucketResult>",
        f"<Contents><Key>{quote('a b/p q/x.jpg')}</Key><LastModified>2026-11-01T10:00:00.000Z"
        "</LastModified><ETag>&quot;e&quot;</ETag><Size>1</Size></Contents>"
        "</ListBucketResult>".encode(),
    )
    assert s3_pages._fast_page(body) is not None
    assert [o.key for o in parse_page(body).objects] == ["a b/p q/x.jpg"]


def test_a_fast_page_fingerprints_as_its_objects_do_without_building_them() -> None:
    """An unchanged model is recognised from the page's text alone: were the two fingerprints
    ever to differ, every re-sync would rewrite every model."""
    keys = [*HOSTILE, "a+b c%2Fd/p/x.jpg"]
    page = parse_page(s3_page([(k, i * 1000, f"{i:032x}-2") for i, k in enumerate(keys)]))
    rows = page.objects
    assert isinstance(rows, Rows)
    lines = rows.fingerprint_lines()
    assert rows._objects is None, "fingerprinting built the objects"
    assert hash_lines(lines, "https://cdn") == listing_hash(list(rows), "https://cdn")
    assert Rows.join([rows[:3], rows[3:]]) == rows and [o.key for o in rows[2:4]] == keys[2:4]


def test_a_size_written_with_a_leading_zero_goes_to_lxml() -> None:
    body = s3_page([("m/p/a.jpg", 5, "e")]).replace(b"<Size>5</Size>", b"<Size>05</Size>")
    assert s3_pages._fast_page(body) is None
    assert parse_page(body).objects[0].size == 5


def _contents(*fields: str) -> str:
    return "<Contents>" + "".join(fields) + "</Contents>"


def _page(*contents: str, extra: str = "", url: bool = True) -> bytes:
    encoding = "<EncodingType>url</EncodingType>" if url else ""
    return (
        HEAD + f"<Name>b</Name>{encoding}<IsTruncated>false</IsTruncated>"
        + "".join(contents) + extra + "</ListBucketResult>"
    ).encode()  # fmt: skip


KEY, STAMP = "<Key>m/p/a+b%2Bc.jpg</Key>", "<LastModified>2026-11-01T10:00:00.000Z</LastModified>"
ETAG, SIZE = "<ETag>&quot;e1&quot;</ETag>", "<Size>7</Size>"


@pytest.mark.parametrize(
    "contents",
    [
        [_contents(SIZE, ETAG, STAMP, KEY)],  # the four fields in another order
        [_contents(KEY, STAMP, ETAG, SIZE), _contents(SIZE, KEY, ETAG, STAMP)],  # the last one
        [_contents(STAMP, KEY, ETAG, SIZE), _contents(KEY, STAMP, ETAG, SIZE)],  # the first one
    ],
    ids=["one out of order", "the last out of order", "the first out of order"],
)
def test_fields_in_another_order_are_read_object_by_object(contents: list[str]) -> None:
    """A store that writes Size before Key: the one-pass read would pair one object's key with
    another's size; each object is read element by element instead, every one exact."""
    page = parse_page(_page(*contents))
    want = S3Object("m/p/a b+c.jpg", 7, "e1", WHEN)
    assert list(page.objects) == [want] * len(contents)


def test_an_object_missing_fields_reads_with_empty_values_and_does_not_shift_the_rest() -> None:
    """A Contents without ETag or LastModified (some S3-compatible stores): that object gets ''
    and None, and the next object keeps its own fields."""
    body = _page(
        _contents(KEY, SIZE), _contents("<Key>m/p/z.jpg</Key>", STAMP, ETAG, "<Size>9</Size>")
    )
    assert list(parse_page(body).objects) == [
        S3Object("m/p/a b+c.jpg", 7, "", None),
        S3Object("m/p/z.jpg", 9, "e1", WHEN),
    ]


@pytest.mark.parametrize("url", [True, False], ids=["url-encoded", "raw"])
def test_an_object_without_a_size_or_key_reads_as_empty_not_as_an_error(url: bool) -> None:
    body = _page(_contents(STAMP, ETAG), url=url)
    assert list(parse_page(body).objects) == [S3Object("", 0, "e1", WHEN)]


def test_url_encoded_prefixes_and_keys_are_decoded_on_the_lxml_path_only_when_encoded() -> None:
    """EncodingType=url: '+' is a space and %2B a plus, as botocore reads them; without it the
    same text is the key itself."""
    prefix = "<CommonPrefixes><Prefix>a+b%2Bc/</Prefix></CommonPrefixes>"
    encoded = parse_page(_page(_contents(SIZE, ETAG, STAMP, KEY), extra=prefix))
    assert [o.key for o in encoded.objects] == ["m/p/a b+c.jpg"]
    assert encoded.prefixes == ["a b+c/"]
    plus = _contents(SIZE, ETAG, STAMP, "<Key>m/p/a+b.jpg</Key>")  # a '+' and no '%'
    assert [o.key for o in parse_page(_page(plus)).objects] == ["m/p/a b.jpg"]
    raw = parse_page(_page(_contents(SIZE, ETAG, STAMP, KEY), extra=prefix, url=False))
    assert [o.key for o in raw.objects] == ["m/p/a+b%2Bc.jpg"]
    assert raw.prefixes == ["a+b%2Bc/"]


DOCTYPE = '<!DOCTYPE ListBucketResult [<!ENTITY e "INJECTED/p/x.jpg">]>'


def test_entities_in_a_listing_are_never_expanded() -> None:
    """A listing that defines its own entities (an entity bomb, or text a proxy injects) is read
    without expanding them: the key written as `&e;` never becomes the entity's text."""
    body = _page(_contents("<Key>&e;</Key>", STAMP, ETAG, SIZE), url=False)
    body = body.replace(b"?>\n", b"?>\n" + DOCTYPE.encode(), 1)
    assert [o.key for o in parse_page(body).objects] == [""]


def test_a_raw_control_character_in_an_echoed_prefix_is_dropped_not_fatal() -> None:
    """moto URL-encodes keys but echoes the request's Prefix raw: a control character there
    makes the XML invalid. The echo is dropped and the rest read strictly (entities still
    unexpanded)."""
    echo = "<Prefix>Ann\x01/</Prefix>"
    body = _page(_contents(KEY, STAMP, ETAG, SIZE), _contents("<Key>&e;</Key>", STAMP, ETAG, SIZE))
    body = body.replace(b"<Name>b</Name>", b"<Name>b</Name>" + echo.encode())
    body = body.replace(b"?>\n", b"?>\n" + DOCTYPE.encode(), 1)
    assert s3_pages._fast_page(body) is None
    assert [o.key for o in parse_page(body).objects] == ["m/p/a b+c.jpg", ""]


def test_the_one_pass_read_is_taken_only_for_s3s_field_order() -> None:
    """Speed: S3's layout is read in one C-level pass; `_in_order` decides it is safe from the
    first and the last object (and an empty page needs no check)."""
    from lxml import etree

    def fields(*contents: str) -> list[object]:
        root = etree.fromstring(_page(*contents), s3_pages.PARSER)
        return list(root.iter(*s3_pages._FIELDS))

    ordered = _contents(KEY, STAMP, ETAG, SIZE)
    assert s3_pages._in_order(fields(ordered, ordered, ordered))
    assert s3_pages._in_order([])
    assert not s3_pages._in_order(fields(_contents(SIZE, ETAG, STAMP, KEY)))
    assert not s3_pages._in_order(fields(ordered, ordered, _contents(STAMP, KEY, ETAG, SIZE)))
    assert not s3_pages._in_order(fields(_contents(STAMP, KEY, ETAG, SIZE), ordered, ordered))


def test_an_answer_that_is_not_a_listing_names_the_settings_to_check() -> None:
    with pytest.raises(s3_pages.NotAListing) as raised:
        parse_page(b"<html><body>Welcome to nginx</body></html>")
    assert str(raised.value) == (
        "the S3 endpoint answered a bucket listing with <html>, not S3's ListBucketResult: "
        "check DO_SPACES_ENDPOINT and DO_SPACES_BUCKET."
    )


def test_one_object_missing_a_field_between_complete_ones_is_read_object_by_object() -> None:
    """The first and the last objects look like S3's layout but the middle one has no ETag:
    the one-pass read would shift every later field; each object is read on its own."""
    middle = _contents("<Key>m/p/2.jpg</Key>", STAMP, "<Size>2</Size>")
    body = _page(_contents(KEY, STAMP, ETAG, SIZE), middle, _contents(KEY, STAMP, ETAG, SIZE))
    assert [(o.key, o.size, o.etag) for o in parse_page(body).objects] == [
        ("m/p/a b+c.jpg", 7, "e1"),
        ("m/p/2.jpg", 2, ""),
        ("m/p/a b+c.jpg", 7, "e1"),
    ]


def test_an_etag_loses_only_its_quotes() -> None:
    body = _page(_contents(KEY, STAMP, "<ETag>&quot;X9-2X&quot;</ETag>", SIZE), url=False)
    assert [o.etag for o in parse_page(body).objects] == ["X9-2X"]


def test_a_token_on_a_page_that_is_not_truncated_is_not_followed() -> None:
    """Only IsTruncated=true continues a listing: a stray token on the last page would list the
    bucket again (or forever)."""
    body = _page(
        _contents(SIZE, ETAG, STAMP, KEY), extra="<NextContinuationToken>t</NextContinuationToken>"
    )
    assert parse_page(body).next_token is None


@pytest.mark.parametrize("etag", ["a&amp;b", "&lt;x&gt;", "&#34;q&#34;", "a&amp;quot;b"])
def test_an_etag_with_an_entity_other_than_quot_is_decoded(etag: str) -> None:
    """Only &quot; is undone by the fast path: any other entity sends the page to lxml, which
    decodes it, so the ETag (and the fingerprint built from it) is the one S3 means."""
    page = s3_page([("M/P/a.jpg", 3, etag)])
    assert s3_pages._fast_page(page) is None
    (read,) = parse_page(page).objects
    expected = etag.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    assert read.etag == expected.replace("&#34;", '"').strip('"')
