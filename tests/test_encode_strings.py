"""String columns without a Python-object pass: the UTF-8 kernel and the object-address path.

Reference: a plain Python numbering by first appearance (a dict), and pandas' factorize
(what encoding used before); both must give the same codes and levels.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idrisk._encode import _encode_series, encode
from idrisk._kernels.codes import remap_codes, utf8_codes, utf8_words


def plain_codes(values):
    """First-appearance codes of a list of str/None (None: -1), by a dict."""
    seen = {}
    out = []
    for v in values:
        if v is None:
            out.append(-1)
        else:
            out.append(seen.setdefault(v, len(seen)))
    return out, list(seen)


def kernel_codes(values, large: bool):
    arr = pa.array(values, type=pa.large_string() if large else pa.string())
    bufs = arr.buffers()
    off = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32)[: len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None and bufs[2].size else np.zeros(0, np.uint8)
    valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else np.zeros(0, dtype=bool)
    words, tail, tail_start = utf8_words(data)
    return utf8_codes(off, np.int64(0), words, tail, np.int64(tail_start), valid, np.empty(len(off) - 1, np.int32))


# short strings that differ in one byte, in length only, by trailing NULs, or in non-ASCII
_alphabet = st.sampled_from(["a", "b", "\0", "é", "€", "z", "0", "😀"])
_strings = st.lists(st.one_of(st.none(), st.text(_alphabet, max_size=6),
                              st.text(_alphabet, min_size=5, max_size=9), st.text(_alphabet, min_size=14, max_size=16)), min_size=1, max_size=300)


@settings(max_examples=80, deadline=None)
@given(_strings, st.booleans())
def test_utf8_kernel_against_plain_numbering(values, large):
    codes, first, ok = kernel_codes(values, large)
    expected, levels = plain_codes(values)
    byte_len = max((len(v.encode()) for v in values if v is not None), default=0)
    assert ok == (byte_len <= 15)
    if ok:
        assert codes.tolist() == expected
        assert [values[i] for i in first] == levels


def test_utf8_kernel_grows_its_table():
    """More distinct strings than the first table holds (it starts at 1024)."""
    values = [f"v{i % 5000}" for i in range(20_000)] + [None, ""]
    codes, first, ok = kernel_codes(values, True)
    expected, levels = plain_codes(values)
    assert ok and codes.tolist() == expected and [values[i] for i in first] == levels


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=0, max_size=40), st.integers(0, 7))
def test_utf8_words_view_or_copy(data, shift):
    """Whole words (a view when aligned, a copy when not) and a padded tail hold the bytes."""
    buf = np.zeros(len(data) + 8, dtype=np.uint8)[shift: shift + len(data)]  # misaligned for shift > 0
    buf[:] = np.frombuffer(data, dtype=np.uint8)
    words, tail, tail_start = utf8_words(buf)
    assert bytes(words.view(np.uint8)) == data[: 8 * len(words)]
    t = tail.view(np.uint8)
    assert tail_start % 8 == 0 and tail_start <= max(8 * len(words) - 24, 0)
    assert bytes(t[: len(data) - tail_start]) == data[tail_start:] and not t[len(data) - tail_start:].any()
    assert len(t) >= len(data) - tail_start + 16  # two words to read past the last byte


def test_utf8_kernel_gives_up_on_long_strings():
    values = ["short", "x" * 16, "short"]
    assert not kernel_codes(values, False)[2]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-1, 6), min_size=1, max_size=200), st.permutations(list(range(7))))
def test_remap_codes_against_take(codes, table):
    arr = np.array(codes, dtype=np.int32)
    tab = np.array(table, dtype=np.int32)
    expected = np.where(arr >= 0, tab[np.maximum(arr, 0)], -1)
    remap_codes(arr, tab)
    assert arr.tolist() == expected.tolist()


_dtypes = ["str", "string[pyarrow]", pd.ArrowDtype(pa.string()), pd.ArrowDtype(pa.large_string()), object]


@pytest.mark.parametrize("dtype", _dtypes, ids=str)
@settings(max_examples=30, deadline=None)
@given(values=_strings)
def test_string_columns_encode_like_factorize(dtype, values):
    """Every string dtype gives pandas' factorize codes and levels (the encoding before)."""
    s = pd.Series(values, dtype=dtype)
    codes, nl, levels = _encode_series(s, "x")
    ref_codes, ref_levels = pd.factorize(s, sort=False, use_na_sentinel=True)
    assert codes.tolist() == ref_codes.tolist()
    assert nl == len(ref_levels) and list(levels) == list(ref_levels)


@pytest.mark.parametrize("dtype", _dtypes, ids=str)
def test_large_string_columns_encode_like_factorize(dtype):
    """Above the size where the object path pre-groups by address, with repeated and
    equal-but-distinct objects, missing values and a sliced (offset) Arrow array."""
    rng = np.random.default_rng(3)
    labels = np.array(["E09000001", "E09000002", "M", "F", "", "ü-x", None], dtype=object)
    values = labels[rng.integers(0, len(labels), 5000)]
    values[::7] = [f"E0900000{i % 3}" for i in range(len(values[::7]))]  # new objects, equal values
    s = pd.Series(values, dtype=dtype).iloc[13:]
    codes, nl, levels = _encode_series(s, "x")
    ref_codes, ref_levels = pd.factorize(s, sort=False, use_na_sentinel=True)
    assert codes.tolist() == ref_codes.tolist() and list(levels) == list(ref_levels)


def test_chunked_arrow_column():
    chunks = pa.chunked_array([["b", "a", None], ["a", "c"], []], type=pa.string())
    s = pd.Series(pd.arrays.ArrowExtensionArray(chunks))
    enc = encode(pd.DataFrame({"x": s}), ["x"], warn_identifiers=False)
    assert enc.codes["x"].tolist() == [0, 1, -1, 1, 2] and list(enc.levels["x"]) == ["b", "a", "c"]


_fixed = st.integers(0, 15).flatmap(lambda k: st.lists(
    st.one_of(st.none(), st.text(st.sampled_from(["a", "b", "\0", "z"]), min_size=k, max_size=k)),
    min_size=1, max_size=200))


@settings(max_examples=80, deadline=None)
@given(_fixed, st.booleans())
def test_utf8_kernel_fixed_width_against_plain_numbering(values, large):
    """Strings of one byte length (the fixed-width loop), with nulls of any length."""
    codes, first, ok = kernel_codes(values, large)
    expected, levels = plain_codes(values)
    assert ok and codes.tolist() == expected
    assert [values[i] for i in first] == levels


def test_utf8_kernel_fixed_width_grows_its_table():
    values = [f"{i % 3000:05d}" for i in range(20_000)] + [None]
    codes, first, ok = kernel_codes(values, False)
    expected, levels = plain_codes(values)
    assert ok and codes.tolist() == expected and [values[i] for i in first] == levels



@pytest.mark.parametrize("kind", ["object", "arrow", "arrow2", "int", "bool"])
@pytest.mark.parametrize("distinct", [5, 200, 40_000])
def test_narrowed_codes_equal_int32_codes(kind, distinct):
    """A grouping key's columns are encoded into int16 codes first and narrowed
    (_encode_many(narrow=True)); a column with more than 32767 values is encoded again in
    int32. Either way the codes equal the int32 codes, and the levels are the same."""
    from idrisk._encode import _encode_many

    rng = np.random.default_rng(distinct)
    n = 400_000 if distinct > 32767 and kind == "object" else 2 * max(distinct, 1000)
    v = rng.integers(0, distinct, n)
    v[:distinct] = np.arange(distinct)  # every value present
    pool = np.array([f"v{x:05d}" for x in range(distinct)], dtype=object)  # objects repeat, as read_csv's
    col = {"object": lambda: pd.Series(pool[v]),
           "arrow": lambda: pd.Series([f"v{x:05d}" for x in v], dtype=pd.StringDtype("pyarrow")),
           "arrow2": lambda: pd.Series([chr(65 + x % 26) + chr(65 + x // 26 % 26) if distinct < 600 else f"{x}"
                                        for x in v], dtype=pd.StringDtype("pyarrow")),
           "int": lambda: pd.Series(v * 1_000_003),
           "bool": lambda: pd.Series(v % 2 == 0)}[kind]()
    frame = pd.DataFrame({"c": col})
    [(wide, nl, lev)] = _encode_many(frame, ["c"])
    [(narrow, nl2, lev2)] = _encode_many(frame, ["c"], narrow=True)
    assert wide.dtype == np.int32 and nl == nl2 == len(set(col.tolist()))
    assert narrow.dtype == (np.int8 if nl <= 127 else np.int16 if nl <= 32767 else np.int32)
    np.testing.assert_array_equal(narrow.astype(np.int64), wide.astype(np.int64))
    assert list(lev) == list(lev2)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="abcXYZ09é", min_size=1, max_size=1), min_size=1, max_size=40),
       st.integers(1, 15), st.integers(0, 5), st.booleans(), st.booleans())
def test_fixed_width_codes_against_factorize(chars, width, cut, exact_buffer, large):
    """codes.fixed_width_codes (strided views of the Arrow buffer itself: a byte, an unaligned
    16-bit word, or unaligned 64-bit words masked to the width) against pandas.factorize, for
    every width from 1 to 15 bytes, on sliced arrays, and on data buffers with no padding
    (the last rows then read from a padded copy)."""
    from idrisk._kernels.codes import fixed_width_codes, string_codes

    values = [(c * width).encode("utf-8")[:width].decode("utf-8", "ignore").ljust(width, "q")[:width] for c in chars]
    values = [v.encode("utf-8")[:width].decode("utf-8", "ignore") for v in values]
    values = [v + "q" * (width - len(v.encode("utf-8"))) for v in values]
    assert all(len(v.encode("utf-8")) == width for v in values)
    data = b"".join(v.encode("utf-8") for v in values)
    off_type = np.int64 if large else np.int32
    offsets = np.arange(len(values) + 1, dtype=off_type) * width
    typ = pa.large_string() if large else pa.string()
    buf = pa.py_buffer(data) if exact_buffer else pa.py_buffer(data + b"\0" * 64)
    arr = pa.Array.from_buffers(typ, len(values), [None, pa.py_buffer(offsets.tobytes()), buf])
    arr = arr.slice(min(cut, len(values) - 1))
    kept = values[min(cut, len(values) - 1):]
    offs = np.frombuffer(arr.buffers()[1], dtype=off_type)[arr.offset: arr.offset + len(arr) + 1]
    raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    expected, uniques = pd.factorize(np.array(kept, dtype=object))
    for fn in (fixed_width_codes, lambda o, d, c: string_codes(o, d, np.zeros(0, np.bool_), c)):
        codes, first, ok = fn(offs, raw, np.empty(len(kept), np.int32))
        assert ok
        np.testing.assert_array_equal(codes, expected)
        assert [kept[i] for i in first] == list(uniques)
    ragged = pa.array(["a", "bb"] * 3)
    ro = np.frombuffer(ragged.buffers()[1], dtype=np.int32)
    assert fixed_width_codes(ro, np.frombuffer(ragged.buffers()[2], dtype=np.uint8), np.empty(6, np.int32)) is None
