"""Tests for the deliberately broken example: these fail until model.py is fixed."""

import os
import sys
import unittest

MODEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if MODEL_DIR not in sys.path:
    sys.path.insert(0, MODEL_DIR)

from model import Model  # noqa: E402


class BrokenModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Model()
        cls.model.load()

    def celsius(self, fahrenheit):
        return self.model.predict([{"fahrenheit": fahrenheit}])[0]["celsius"]

    def test_freezing_point(self):
        self.assertAlmostEqual(self.celsius(32.0), 0.0)

    def test_boiling_point(self):
        got = self.celsius(212.0)
        self.assertAlmostEqual(
            got, 100.0, places=6,
            msg="212 F must be 100 C, got %r: model.py multiplies by 9/5 instead of 5/9 "
                "(this example is broken on purpose)" % got)

    def test_body_temperature(self):
        got = self.celsius(98.6)
        self.assertAlmostEqual(got, 37.0, places=6,
                               msg="98.6 F must be 37 C, got %r" % got)


if __name__ == "__main__":
    unittest.main()
