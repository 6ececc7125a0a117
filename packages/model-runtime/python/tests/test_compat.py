"""The runtime must run on Python 3.9+: no 3.10+ syntax (match, parenthesized context
managers, ...) and no annotations that only evaluate on newer versions."""

import ast
import os
import unittest

from tests.helpers import EXAMPLES_DIR, PKG_DIR


def python_files(root):
    for base, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(base, name)


class Python39SyntaxTest(unittest.TestCase):
    def test_sources_parse_as_python_39(self):
        roots = [os.path.join(PKG_DIR, "mlp_runtime"), os.path.join(PKG_DIR, "tests")]
        if os.path.isdir(EXAMPLES_DIR):
            roots.append(EXAMPLES_DIR)
        checked = 0
        for root in roots:
            for path in python_files(root):
                with open(path, "r", encoding="utf-8") as fh:
                    source = fh.read()
                tree = ast.parse(source, path, feature_version=(3, 9))
                for node in ast.walk(tree):
                    self.assertNotIsInstance(node, getattr(ast, "Match", ()), path)
                    annotation = getattr(node, "annotation", None) or getattr(node, "returns", None)
                    if annotation is not None:
                        for sub in ast.walk(annotation):
                            self.assertFalse(isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.BitOr),
                                             "%s:%d uses X | Y in an annotation" % (path, node.lineno))
                checked += 1
        self.assertGreater(checked, 10)


if __name__ == "__main__":
    unittest.main()
