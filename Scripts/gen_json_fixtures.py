#!/usr/bin/env python3
"""Generate the JSON codec's reference fixtures with Python's json module (the oracle).

Writes into Fixtures/generated/json/:
  valid.txt    records "=== name" / hex(input bytes) / expected event stream (see below)
  invalid.txt  lines "name hex(input bytes)" that a strict RFC 8259 parser must reject
  canonical.txt  lines "name hex(input) hex(compact UTF-8 dump) hex(compact ASCII dump)": the writer's exact output

Event stream (space separated tokens, preorder): N, T, F, I<int64>, D<16 hex digits of the IEEE-754 bits Python's
float() gives>, S<hex of UTF-8>, A<count> then elements, O<count> then K<hex of key UTF-8> + value per member.
Integers outside Int64 become D tokens (the Swift parser reports them as doubles, correctly rounded like float()).
Object members keep source order and duplicates (object_pairs_hook).

Deterministic (fixed seed): re-running reproduces the committed files byte for byte.
Usage: python3 Scripts/gen_json_fixtures.py
"""
import json
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "generated", "json")
SAMPLES = os.path.join(ROOT, "Fixtures", "samples")
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class Pairs(list):
    """An object as its ordered (key, value) pairs, duplicates kept."""


def to_float(v):
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def events(value, out):
    if value is None:
        out.append("N")
    elif value is True:
        out.append("T")
    elif value is False:
        out.append("F")
    elif isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            out.append("I%d" % value)
        else:
            out.append("D%016x" % struct.unpack("<Q", struct.pack("<d", to_float(value)))[0])
    elif isinstance(value, float):
        out.append("D%016x" % struct.unpack("<Q", struct.pack("<d", value))[0])
    elif isinstance(value, str):
        out.append("S" + value.encode("utf-8").hex())
    elif isinstance(value, Pairs):
        out.append("O%d" % len(value))
        for k, v in value:
            out.append("K" + k.encode("utf-8").hex())
            events(v, out)
    elif isinstance(value, list):
        out.append("A%d" % len(value))
        for v in value:
            events(v, out)
    else:
        raise TypeError(type(value))


def expected(text_bytes):
    value = json.loads(text_bytes.decode("utf-8"), object_pairs_hook=Pairs)
    out = []
    events(value, out)
    return " ".join(out)


# ---- random documents -------------------------------------------------------------------------------------------

ESCAPE_CHARS = ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x1f", "\x7f"]
UNICODE_CHARS = ["é", "中", "文", "😀", "𝄞", "\u2028", "\u2029", "\ufeff", "\uffff", "\U0010ffff", "ñ", "ß", "弹幕"]


def random_string(rng):
    n = rng.choice([0, 1, 3, 8, 20, 60])
    parts = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            parts.append(chr(rng.randint(0x20, 0x7E)))
        elif r < 0.8:
            parts.append(rng.choice(ESCAPE_CHARS))
        else:
            parts.append(rng.choice(UNICODE_CHARS))
    return "".join(parts)


def random_number(rng):
    r = rng.random()
    if r < 0.25:
        return rng.randint(-1000, 1000)
    if r < 0.4:
        return rng.choice([0, INT64_MAX, INT64_MIN, INT64_MAX + 1, INT64_MIN - 1, 1 << 53, (1 << 53) + 1,
                           10 ** 19, 10 ** 25, -(10 ** 30), 1710916697432, 3546571385866489])
    if r < 0.5:
        return rng.randint(-(1 << 70), 1 << 70)
    if r < 0.7:
        return rng.choice([0.0, -0.0, 0.1, 0.5, 1.5, -2.25, 1e16, 1e-7, 5e-324, 2.2250738585072014e-308,
                           1.7976931348623157e308, 123456.789, 1e22, 1e23, 9007199254740993.0, 0.30000000000000004])
    # Random bit patterns cover the whole exponent range; skip NaN/inf (JSON has no spelling for them).
    while True:
        d = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if d == d and d not in (float("inf"), float("-inf")):
            return d


def random_value(rng, depth, integers_only=False):
    r = rng.random()
    if depth < 6 and r < 0.2:
        return [random_value(rng, depth + 1, integers_only) for _ in range(rng.randint(0, 6))]
    if depth < 6 and r < 0.4:
        return {random_string(rng): random_value(rng, depth + 1, integers_only) for _ in range(rng.randint(0, 6))}
    if r < 0.6:
        return random_string(rng)
    if r < 0.85:
        if integers_only:
            return rng.choice([0, -1, 7, INT64_MAX, INT64_MIN, rng.randint(INT64_MIN, INT64_MAX)])
        return random_number(rng)
    return rng.choice([None, True, False])


def number_text(rng, value):
    """Re-spell a float in another valid JSON way (exponent case/sign, extra zeros) to exercise the number parser."""
    text = repr(value)
    if "e" in text and rng.random() < 0.5:
        text = text.replace("e", "E")
    if "e" not in text and "E" not in text and "." in text and rng.random() < 0.3:
        text += "000"
    if rng.random() < 0.2 and "e" not in text and "E" not in text:
        text += "e+0"
    return text


def dumps_variants(rng, value):
    opts = rng.choice([
        dict(ensure_ascii=False, separators=(",", ":")),
        dict(ensure_ascii=True, separators=(",", ":")),
        dict(ensure_ascii=False, indent=2),
        dict(ensure_ascii=True, indent="\t", separators=(" , ", " : ")),
    ])
    return json.dumps(value, **opts).encode("utf-8")


def main():
    rng = random.Random(20240521)
    os.makedirs(OUT, exist_ok=True)
    valid = []

    def add(name, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        valid.append((name, data, expected(data)))

    hand = {
        "y_escapes_all": r'["\"\\\/\b\f\n\r\t\u0000\u001F\u007f\u00e9\u4E2D\ud83d\ude00\uD834\uDD1E"]',
        "y_numbers_forms": "[0, -0, 0.0, -0.0, 1E2, 1e+2, 1e-2, 0e0, 0E-0, 1.5E+300, 123.456e-7, 100000000000000000000]",
        "y_number_edges": "[9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, "
                          "1e400, -1e400, 4.9e-324, 2.4e-324, 2.5e-324, 1e-400, 0.1e1, 1.00000000000000011102230246251565]",
        "y_number_halfway": "[9007199254740993, 9007199254740995, 2.00000000000000011102230246251565404236316680908203125,"
                            "1.7976931348623158e308, 7.2057594037927933e16, 3.0517578125e-05]",
        "y_whitespace": ' \t\r\n{ "a" \t: \n[ 1 ,\r2 ] , "b":null }\n\t ',
        "y_duplicate_keys": '{"k":1,"k":2,"":3,"":{"k":"x"}}',
        "y_empty_containers": '[[],{},[[]],[{}],{"":[]}]',
        "y_literals": "[true,false,null]",
        "y_top_scalars_string": '"top"',
        "y_top_scalar_number": "-12.5e3",
        "y_top_null": "null",
        "y_utf8_raw": '["é中😀\U0010ffff\u2028\u2029\ufeff"]',
        "y_depth_64": "[" * 64 + "]" * 64,
        "y_long_string": '"' + "abcdefghij" * 1000 + '"',
        "y_number_long_mantissa": "[0." + "0" * 400 + "1, 1" + "0" * 400 + ", 1" + "0" * 400 + "e-400, "
                                  "2.47032822920623272088284396434110686182529901307162382212792841250337753635104375932649918"
                                  "58070179e-324, 0.1000000000000000055511151231257827021181583404541015625, "
                                  + "9" * 30 + ".5" + "]",
        "y_number_huge_exponents": "[1e99999999999999999999, -1e99999999999999999999, 1e-99999999999999999999, "
                                   "0e99999999999999999999, 123e-330, 1E-7, 1e+0]",
        "y_escaped_key": '{"c\\u006dd":"DANMU_MSG","\\"q\\"":1}',
    }
    for name, text in hand.items():
        add(name, text)

    for i in range(1500):
        value = random_value(rng, 0)
        add("random_%04d" % i, dumps_variants(rng, value))

    # Numbers spelled in unusual but valid ways.
    for i in range(300):
        values = [random_number(rng) for _ in range(8)]
        text = "[" + ",".join(number_text(rng, v) if isinstance(v, float) else str(v) for v in values) + "]"
        add("numbers_%03d" % i, text)

    # Real Bilibili bodies: verbatim, and re-serialised compactly (UTF-8 and ASCII-escaped).
    for file in sorted(os.listdir(SAMPLES)):
        if not file.endswith(".json"):
            continue
        with open(os.path.join(SAMPLES, file), "rb") as f:
            data = f.read()
        add("sample_" + file, data)
        value = json.loads(data.decode("utf-8"))
        add("sample_compact_" + file, json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        add("sample_ascii_" + file, json.dumps(value, ensure_ascii=True))

    with open(os.path.join(OUT, "valid.txt"), "w") as f:
        for name, data, ev in valid:
            f.write("=== %s\n%s\n%s\n" % (name, data.hex(), ev))

    # Writer output byte for byte: Python's compact dumps of documents without floats (whose shortest spelling
    # differs between Python's repr and Swift's description) and without integers beyond Int64.
    with open(os.path.join(OUT, "canonical.txt"), "w") as f:
        for i in range(400):
            value = random_value(rng, 0, integers_only=True)
            data = dumps_variants(rng, value)
            utf8 = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            ascii = json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("utf-8")
            f.write("canonical_%03d %s %s %s\n" % (i, data.hex(), utf8.hex(), ascii.hex()))

    invalid = invalid_cases()
    with open(os.path.join(OUT, "invalid.txt"), "w") as f:
        for name, data in invalid:
            if isinstance(data, str):
                data = data.encode("utf-8")
            f.write("%s %s\n" % (name, data.hex()))
    print("wrote %d valid, %d invalid cases to %s" % (len(valid), len(invalid), OUT), file=sys.stderr)


def invalid_cases():
    """JSONTestSuite-style n_* inputs (hand-written here). Every one must be rejected."""
    cases = [
        # structure
        ("n_structure_empty", ""),
        ("n_structure_whitespace_only", " \n\t "),
        ("n_structure_unclosed_array", "[1"),
        ("n_structure_unclosed_array_comma", "[1,"),
        ("n_structure_unclosed_object", '{"a":1'),
        ("n_structure_unclosed_object_key", '{"a"'),
        ("n_structure_unclosed_object_colon", '{"a":'),
        ("n_structure_open_bracket", "["),
        ("n_structure_open_brace", "{"),
        ("n_structure_close_bracket", "]"),
        ("n_structure_close_brace", "}"),
        ("n_structure_mismatched", "[}"),
        ("n_structure_mismatched_2", '{"a":1]'),
        ("n_structure_extra_close", "[1]]"),
        ("n_array_trailing_comma", "[1,]"),
        ("n_array_only_comma", "[,]"),
        ("n_array_leading_comma", "[,1]"),
        ("n_array_double_comma", "[1,,2]"),
        ("n_array_missing_comma", "[1 2]"),
        ("n_array_colon", "[1:2]"),
        ("n_object_trailing_comma", '{"a":1,}'),
        ("n_object_only_comma", "{,}"),
        ("n_object_double_comma", '{"a":1,,"b":2}'),
        ("n_object_missing_colon", '{"a" 1}'),
        ("n_object_missing_value", '{"a":}'),
        ("n_object_missing_key", '{:1}'),
        ("n_object_number_key", "{1:1}"),
        ("n_object_unquoted_key", "{a:1}"),
        ("n_object_single_quoted_key", "{'a':1}"),
        ("n_object_double_colon", '{"a"::1}'),
        ("n_object_comma_instead_of_colon", '{"a",1}'),
        ("n_object_missing_comma", '{"a":1 "b":2}'),
        ("n_object_non_string_key_true", "{true:1}"),
        ("n_structure_two_values", "1 2"),
        ("n_structure_two_arrays", "[][]"),
        ("n_structure_trailing_garbage", "[1]x"),
        ("n_structure_trailing_nul", b"[1]\x00"),
        ("n_structure_comment_line", "[1] // c"),
        ("n_structure_comment_block", "/* c */ [1]"),
        ("n_structure_comment_inside", "[1, /* c */ 2]"),
        ("n_structure_bom", b"\xef\xbb\xbf[1]"),
        ("n_structure_form_feed_ws", "[\f1]"),
        ("n_structure_vertical_tab_ws", "[\v1]"),
        ("n_structure_nbsp_ws", "[\u00a01]"),
        ("n_structure_lone_comma", ","),
        ("n_structure_lone_colon", ":"),
        ("n_structure_deep_100000", "[" * 100000),
        ("n_structure_deep_65", "[" * 65 + "]" * 65),
        ("n_structure_deep_object_65", '{"a":' * 65 + "1" + "}" * 65),
        # literals
        ("n_literal_tru", "tru"),
        ("n_literal_True", "True"),
        ("n_literal_NULL", "NULL"),
        ("n_literal_nul", "[nul]"),
        ("n_literal_fals", "fals"),
        ("n_literal_truex", "truex"),
        ("n_literal_nulll", "nulll"),
        ("n_literal_undefined", "undefined"),
        # numbers
        ("n_number_plus", "[+1]"),
        ("n_number_leading_zero", "[01]"),
        ("n_number_neg_leading_zero", "[-01]"),
        ("n_number_double_zero", "00"),
        ("n_number_dot_start", "[.5]"),
        ("n_number_neg_dot", "[-.5]"),
        ("n_number_dot_end", "[1.]"),
        ("n_number_dot_exp", "[1.e1]"),
        ("n_number_exp_empty", "[1e]"),
        ("n_number_exp_sign_only", "[1e+]"),
        ("n_number_exp_minus_only", "[1E-]"),
        ("n_number_minus_only", "[-]"),
        ("n_number_double_minus", "[--1]"),
        ("n_number_hex", "[0x1]"),
        ("n_number_infinity", "[Infinity]"),
        ("n_number_neg_infinity", "[-Infinity]"),
        ("n_number_nan", "[NaN]"),
        ("n_number_underscore", "[1_000]"),
        ("n_number_space", "[1 000]"),
        ("n_number_two_dots", "[0.1.2]"),
        ("n_number_double_e", "[1ee2]"),
        ("n_number_arabic_digit", "[\u0663]"),
        ("n_number_fullwidth_digit", "[\uff11]"),
        ("n_number_minus_space", "[- 1]"),
        ("n_number_trailing_letter", "[1a]"),
        ("n_number_top_dot", "1."),
        ("n_number_top_minus", "-"),
        ("n_number_exp_dot", "[1e1.5]"),
        # strings
        ("n_string_unterminated", '"abc'),
        ("n_string_unterminated_escape", '"abc\\'),
        ("n_string_single_quotes", "['a']"),
        ("n_string_escape_x", r'["\x41"]'),
        ("n_string_escape_quote_single", r'["\'"]'),
        ("n_string_escape_a", r'["\a"]'),
        ("n_string_escape_0", r'["\0"]'),
        ("n_string_escape_U", r'["\U0041"]'),
        ("n_string_escape_u_short", r'["\u12"]'),
        ("n_string_escape_u_short_end", r'"\u12'),
        ("n_string_escape_u_nonhex", r'["\uZZZZ"]'),
        ("n_string_escape_u_plus", r'["\u+123"]'),
        ("n_string_lone_high_surrogate", r'["\ud800"]'),
        ("n_string_lone_low_surrogate", r'["\udc00"]'),
        ("n_string_high_then_ascii", r'["\ud800\u0041"]'),
        ("n_string_high_then_high", r'["\ud800\ud800"]'),
        ("n_string_high_then_text", r'["\ud800abc"]'),
        ("n_string_reversed_pair", r'["\udc00\ud800"]'),
        ("n_string_high_at_end", r'"\ud83d'),
        ("n_string_unescaped_tab", '["a\tb"]'),
        ("n_string_unescaped_newline", '["a\nb"]'),
        ("n_string_backslash_newline", '["a\\\nb"]'),
        # UTF-8
        ("n_utf8_overlong_2", b'["\xc0\x80"]'),
        ("n_utf8_overlong_2_c1", b'["\xc1\xbf"]'),
        ("n_utf8_overlong_3", b'["\xe0\x80\x80"]'),
        ("n_utf8_overlong_3_slash", b'["\xe0\x80\xaf"]'),
        ("n_utf8_overlong_4", b'["\xf0\x80\x80\x80"]'),
        ("n_utf8_overlong_4_max", b'["\xf0\x8f\xbf\xbf"]'),
        ("n_utf8_surrogate_high", b'["\xed\xa0\x80"]'),
        ("n_utf8_surrogate_low", b'["\xed\xbf\xbf"]'),
        ("n_utf8_surrogate_pair_cesu", b'["\xed\xa0\xbd\xed\xb8\x80"]'),
        ("n_utf8_above_max", b'["\xf4\x90\x80\x80"]'),
        ("n_utf8_f5", b'["\xf5\x80\x80\x80"]'),
        ("n_utf8_ff", b'["\xff"]'),
        ("n_utf8_fe", b'["\xfe"]'),
        ("n_utf8_lone_continuation", b'["\x80"]'),
        ("n_utf8_lone_continuation_bf", b'["a\xbfb"]'),
        ("n_utf8_truncated_2", b'["\xc3"]'),
        ("n_utf8_truncated_3", b'["\xe4\xb8"]'),
        ("n_utf8_truncated_4", b'["\xf0\x9f\x98"]'),
        ("n_utf8_truncated_at_eof", b'"\xe4\xb8'),
        ("n_utf8_bad_continuation", b'["\xe4\x41\x80"]'),
        ("n_utf8_outside_string", b"[\xc3\xa9]"),
        ("n_utf8_invalid_outside_string", b"[1]\xff"),
    ]
    for byte in range(0x20):
        cases.append(("n_string_control_%02x" % byte, b'["a' + bytes([byte]) + b'b"]'))
    return cases


if __name__ == "__main__":
    main()
