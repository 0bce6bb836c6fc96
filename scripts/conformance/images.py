"""Small image files for the conformance run's POST /v1/attachments cases (hooks.py).

Pure Python (the conformance virtual environment has no imaging library):
PNG (any size, grey, RGB or RGBA, random pixels), baseline JPEG (grey or
colour, one flat colour per 8×8 block: only DC coefficients, which every
decoder reads), and lossless WebP (one colour: every prefix code holds one
symbol, so the pixels take no bits). Each is a real, readable file of that
format. `upload_bodies()` mixes them with files a platform must refuse.
"""

import random
import struct
import zlib

from hypothesis import strategies as st

# ---------- PNG ----------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, channels: int, seed: int) -> bytes:
    """A PNG of random pixels; `channels` 1 (grey), 3 (RGB) or 4 (RGBA)."""
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    pixels = random.Random(seed).randbytes(width * height * channels)
    stride = width * channels
    raw = b"".join(b"\x00" + pixels[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def png_bomb(width: int, height: int) -> bytes:
    """A PNG that claims `width`×`height` pixels with a tiny IDAT (a decompression bomb's header)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b""))
        + _png_chunk(b"IEND", b"")
    )


# ---------- JPEG ----------

# The DC luminance table of ITU T.81 Annex K (K.3): code lengths, then symbols.
_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
_DC_VALUES = list(range(12))
# An AC table with one symbol, end-of-block (0x00), coded as the one-bit code 0.
_AC_BITS = [1] + [0] * 15
_AC_VALUES = [0]


def _huffman_codes(bits: list, values: list) -> dict:
    """Canonical codes (T.81 Annex C): symbol -> (code, length)."""
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


_DC_CODES = _huffman_codes(_DC_BITS, _DC_VALUES)
_EOB = _huffman_codes(_AC_BITS, _AC_VALUES)[0]


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def write(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> shift) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0x00)  # byte stuffing
                self.acc, self.n = 0, 0

    def finish(self) -> bytes:
        if self.n:
            self.write((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1 bits
        return bytes(self.out)


def _segment(marker: int, data: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data


def jpeg(width: int, height: int, components: int, seed: int) -> bytes:
    """A baseline JPEG, grey (1 component) or colour (3), one random flat level per 8×8 block."""
    rng = random.Random(seed)
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    quant = _segment(0xDB, bytes([0x00]) + bytes([1] * 64))  # table 0, every step 1
    frame = struct.pack(">BHHB", 8, height, width, components) + b"".join(
        bytes([c + 1, 0x11, 0]) for c in range(components)
    )
    tables = _segment(0xC4, bytes([0x00]) + bytes(_DC_BITS) + bytes(_DC_VALUES)) + _segment(
        0xC4, bytes([0x10]) + bytes(_AC_BITS) + bytes(_AC_VALUES)
    )
    scan_header = bytes([components]) + b"".join(bytes([c + 1, 0x00]) for c in range(components)) + bytes([0, 63, 0])
    bits = _BitWriter()
    previous = [0] * components
    for _ in range(blocks):
        for c in range(components):
            # The DC coefficient of a flat block of level L is 8 × (L − 128).
            dc = 8 * (rng.randrange(256) - 128)
            diff = dc - previous[c]
            previous[c] = dc
            size = abs(diff).bit_length()
            code, length = _DC_CODES[size]
            bits.write(code, length)
            if size:
                bits.write(diff if diff > 0 else diff + (1 << size) - 1, size)
            bits.write(*_EOB)
    return (
        b"\xff\xd8"
        + quant
        + _segment(0xC0, frame)
        + tables
        + _segment(0xDA, scan_header)
        + bits.finish()
        + b"\xff\xd9"
    )


# ---------- WebP (lossless) ----------


def webp(width: int, height: int, argb: tuple) -> bytes:
    """A lossless WebP of one colour (`argb`: alpha, red, green, blue)."""
    value, n = 0, 0

    def put(bits: int, length: int) -> None:  # VP8L packs bits from the least significant
        nonlocal value, n
        value |= (bits & ((1 << length) - 1)) << n
        n += length

    alpha, red, green, blue = argb
    put(width - 1, 14)
    put(height - 1, 14)
    put(1 if alpha != 255 else 0, 1)  # alpha is used
    put(0, 3)  # version
    put(0, 1)  # no transform
    put(0, 1)  # no colour cache
    put(0, 1)  # no meta prefix codes
    for symbol in (green, red, blue, alpha):
        put(1, 1)  # simple code
        put(0, 1)  # one symbol
        put(1, 1)  # of 8 bits
        put(symbol, 8)
    put(1, 1)  # distance code: simple,
    put(0, 1)  # one symbol,
    put(0, 1)  # of 1 bit:
    put(0, 1)  # 0
    data = b"\x2f" + value.to_bytes((n + 7) // 8, "little")
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


# ---------- what hooks.py sends ----------

_sides = st.integers(min_value=1, max_value=96)
_seeds = st.integers(min_value=0, max_value=2**32 - 1)

readable_images = st.one_of(
    st.builds(png, _sides, _sides, st.sampled_from([1, 3, 4]), _seeds),
    st.builds(jpeg, _sides, _sides, st.sampled_from([1, 3]), _seeds),
    st.builds(webp, _sides, _sides, st.tuples(*[st.integers(0, 255)] * 4)),
)


def upload_bodies() -> st.SearchStrategy:
    """Mostly readable photos; also files the platform refuses (415, 422)."""
    refused = st.one_of(
        # Not an image by its first bytes (415), e.g. a GIF or random bytes.
        st.just(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        st.binary(min_size=1, max_size=64),
        # A readable format cut short (422 invalid_image).
        readable_images.map(lambda data: data[: max(12, len(data) // 2)]),
        # 900 megapixels by the header (422 image_too_many_pixels).
        st.just(png_bomb(30000, 30000)),
    )
    return st.one_of(readable_images, readable_images, readable_images, refused)
