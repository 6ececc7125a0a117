"""Hostile requests against a real server (issue 12): each is refused with a 400 naming
the field, quickly, without the allocation the request asks for."""

import json
import unittest

from tests.helpers import TOY_SCHEMA, LiveServerTestCase, tensor

INFER = "/v2/models/toy/infer"


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


class HostileRequestsTest(LiveServerTestCase):
    server_args = ("--schema", TOY_SCHEMA)  # default limits: what a deployment gets

    def post(self, path, body):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body, separators=(",", ":"))
        status, _, answer = self.client.request(
            "POST", path, body=body, headers={"Content-Type": "application/json"})
        return status, answer

    def assertRefused(self, path, body, *fragments):
        status, answer = self.post(path, body)
        self.assertEqual(status, 400, answer)
        for fragment in fragments:
            self.assertIn(fragment, answer["error"])
        return answer["error"]

    def test_zero_width_shape_of_millions_of_rows_allocates_nothing(self):
        # The 262-byte request that made a server allocate 1.2 GB and answer 500.
        body = {"inputs": [{"name": n, "shape": [3000000, 0], "datatype": dt, "data": []}
                           for n, dt in (("x", "FP64"), ("n", "INT64"), ("mode", "BYTES"),
                                         ("flag", "BOOL"))]}
        encoded = json.dumps(body, separators=(",", ":")).encode()
        self.assertLess(len(encoded), 300)
        before = peak_rss_kib(self.server.proc.pid)
        self.assertRefused(INFER, encoded, "inputs[0].shape", "input 'x'", "[3000000, 0]",
                           "1000000 elements")
        grown = peak_rss_kib(self.server.proc.pid) - before
        self.assertLess(grown, 20 * 1024, "peak RSS grew by %d KiB" % grown)

    def test_element_count_is_checked_against_the_shape_before_the_data(self):
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [], [2000000])]},
                           "inputs[0].shape", "more than the 1000000 elements")
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [], [1000, 1000, 1000])]},
                           "inputs[0].shape")
        # Each tensor within the limit, together over it.
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [], [600000]),
                                              tensor("n", "INT64", [], [600000])]},
                           "add up to more than the 1000000 elements")

    def test_data_length_must_match_the_shape(self):
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [1.0, 2.0], [3])]},
                           "input 'x'", "shape [3] needs 3 values, data has 2")
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [1.0] * 7, [2, 3])]},
                           "input 'x'", "needs 6 values, data has 7")

    def test_integers_must_fit_their_v2_datatype(self):
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [1.0]),
                                              tensor("n", "UINT8", [300])]},
                           "input 'n'", "data[0] is 300", "UINT8", "0 to 255")
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [1.0, 2.0]),
                                              tensor("n", "INT8", [1, 1000])]},
                           "input 'n'", "data[1] is 1000", "INT8", "-128 to 127")
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP64", [1.0]),
                                              tensor("n", "UINT16", [-1])]},
                           "input 'n'", "negative value")
        self.assertRefused(INFER, {"inputs": [tensor("x", "FP16", [70000.0])]},
                           "input 'x'", "FP16")
        status, answer = self.post(INFER, {"inputs": [tensor("x", "FP64", [1.0, 2.0]),
                                                         tensor("n", "INT8", [-128, 127])]})
        self.assertEqual(status, 200, answer)

    def test_nan_and_infinity_literals(self):
        self.assertRefused(INFER, b'{"inputs":[{"name":"x","shape":[2],"datatype":"FP64",'
                                  b'"data":[1.0,NaN]}]}',
                           "inputs[0].data[1]", "NaN is not valid JSON")
        self.assertRefused("/invocations", b'{"dataframe_records":[{"x":-Infinity}]}',
                           "dataframe_records[0].x", "-Infinity is not valid JSON")
        self.assertRefused("/invocations", b'{"dataframe_records":[{"x":1e999}]}',
                           "dataframe_records[0].x", "out of range")

    def test_integers_beyond_64_bits(self):
        big = str(2 ** 64)
        self.assertRefused(INFER, ('{"inputs":[{"name":"x","shape":[1],"datatype":"FP64",'
                                   '"data":[%s]}]}' % big).encode(),
                           "inputs[0].data[0]", "does not fit in 64 bits")
        self.assertRefused("/invocations", ('{"dataframe_records":[{"x":1,"n":-%s}]}'
                                            % ("9" * 5000)).encode(),
                           "dataframe_records[0].n", "does not fit in 64 bits")
        # The largest UINT64 and the smallest INT64 are fine.
        status, answer = self.post(INFER, ('{"inputs":[{"name":"x","shape":[2],'
                                              '"datatype":"FP64","data":[1,2]},{"name":"n",'
                                              '"shape":[2],"datatype":"UINT64","data":[%d,%d]}]}'
                                              % (-2 ** 63, 2 ** 64 - 1)).encode())
        self.assertEqual(status, 400, answer)  # -2**63 is not a UINT64 ...
        self.assertIn("negative value", answer["error"])  # ... but it did parse
        status, answer = self.post(INFER, ('{"inputs":[{"name":"x","shape":[1],'
                                              '"datatype":"FP64","data":[1]},{"name":"n",'
                                              '"shape":[1],"datatype":"UINT64","data":[%d]}]}'
                                              % (2 ** 64 - 1)).encode())
        self.assertEqual(status, 200, answer)

    def test_deeply_nested_json(self):
        deep = b"[" * 5000 + b"]" * 5000
        error = self.assertRefused(INFER, b'{"inputs":' + deep + b"}", "nested 5001 levels",
                                   "at most 64")
        self.assertNotIn("internal", error)
        self.assertRefused("/invocations", b'{"dataframe_records":' + b"[" * 100000, "nested")
        # Brackets inside strings do not count.
        status, answer = self.post("/invocations", {"dataframe_records": [
            {"x": 1.0, "mode": "[" * 1000}]})
        self.assertEqual(status, 200, answer)


    def test_server_keeps_serving_after_the_attacks(self):
        self.test_zero_width_shape_of_millions_of_rows_allocates_nothing()
        self.test_deeply_nested_json()
        status, answer = self.post(INFER, {"inputs": [tensor("x", "FP64", [2.0])]})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["outputs"][0]["data"], [4.0])


class LowLimitsTest(LiveServerTestCase):
    server_args = ("--schema", TOY_SCHEMA, "--max-elements", "1000", "--max-json-depth", "8")

    def test_limits_are_the_servers_flags(self):
        for path, body, fragments in (
                (INFER, {"inputs": [tensor("x", "FP64", [], [1001])]},
                 ("inputs[0].shape", "more than the 1000 elements")),
                ("/invocations", {"instances": [[1.0]] * 1001},
                 ("instances has 1001 rows", "at most 1000")),
                ("/invocations", {"inputs": {"x": [1.0] * 1001}},
                 ("inputs.x has 1001 rows",)),
                ("/invocations", {"dataframe_records": [{"x": [[[[[[[1]]]]]]]}]},
                 ("nested 10 levels deep", "at most 8"))):
            status, _, answer = self.client.post(path, body)
            self.assertEqual(status, 400, answer)
            for fragment in fragments:
                self.assertIn(fragment, answer["error"])
        status, _, answer = self.client.post(INFER, {"inputs": [tensor("x", "FP64", [1.0] * 1000)]})
        self.assertEqual(status, 200, answer)


if __name__ == "__main__":
    unittest.main()
