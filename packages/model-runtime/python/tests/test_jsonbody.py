"""Strict request JSON: depth, non-finite numbers and 64-bit integers, named by path."""

import unittest

from mlp_runtime.jsonbody import decode, nesting_depth
from mlp_runtime.schema import ValidationError


class DecodeTest(unittest.TestCase):
    def assertRefused(self, body, *fragments, **kw):
        with self.assertRaises(ValidationError) as ctx:
            decode(body, **kw)
        for fragment in fragments:
            self.assertIn(fragment, str(ctx.exception))

    def test_plain_json(self):
        self.assertEqual(decode(b'{"a": [1, 2.5, "x", null, true]}'),
                         {"a": [1, 2.5, "x", None, True]})
        self.assertEqual(decode(b'[%d, %d]' % (-2 ** 63, 2 ** 64 - 1)), [-2 ** 63, 2 ** 64 - 1])
        self.assertEqual(decode(b'[1e308, 1E-400, 0.1234567890123456789]'),
                         [1e308, 0.0, 0.12345678901234568])

    def test_empty_and_invalid(self):
        self.assertRefused(b"", "request body is empty")
        self.assertRefused(b'{"a": ', "invalid JSON")
        self.assertRefused(b'"\xff"', "invalid JSON", "UTF-8")

    def test_depth(self):
        self.assertEqual(nesting_depth(b'{"a": [[1], {"b": [2]}]}'), 4)
        self.assertEqual(nesting_depth(b'["[[[[", "]]]]\\"[["]'), 1)
        self.assertEqual(decode(b"[" * 8 + b"]" * 8, max_depth=8), [[[[[[[[]]]]]]]])
        self.assertRefused(b"[" * 9 + b"]" * 9, "nested 9 levels deep", "at most 8",
                           max_depth=8)
        self.assertRefused(b"[" * 100000, "nested 100000 levels")

    def test_non_finite_numbers_are_named_by_path(self):
        self.assertRefused(b'{"rows": [{"a": 1}, {"a": NaN}]}', "rows[1].a: NaN is not valid")
        self.assertRefused(b'[Infinity]', "[0]: Infinity")
        self.assertRefused(b'{"x": {"y": [1, -1E+400]}}', "x.y[1]: number -1E+400 is out of range")

    def test_integers_beyond_64_bits_are_named_by_path(self):
        self.assertRefused(b'{"a": [0, %d]}' % 2 ** 64, "a[1]: integer 18446744073709551616 "
                           "does not fit in 64 bits")
        self.assertRefused(b'{"a": %d}' % (-2 ** 63 - 1), "a: integer -9223372036854775809")
        self.assertRefused(b'{"a": ' + b"9" * 5000 + b"}", "a: integer 999", "...")


if __name__ == "__main__":
    unittest.main()
