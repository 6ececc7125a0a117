"""Predictions through the platform's native data plane, against two local
HTTP servers standing in for the portal and the data plane (their answers
are the platform's shapes; the platform itself is in test_against_backend)."""

import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from unittest import mock

from ml_platform import Client, client as client_module
from ml_platform.errors import InvalidInput, Unavailable

PREDICT = "/api/ml-platform/models/default/churn/predict"


class Server(object):
    """One HTTP server on a free loopback port, keeping what it was sent."""

    def __init__(self, name: str, gateway: Optional[Dict[str, Any]] = None,
                 status: int = 200):
        self.name = name
        self.gateway = gateway
        self.status = status
        self.requests: List[Dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                server.requests.append({"method": "GET", "path": self.path})
                if self.path == "/api/ml-platform/gateway" and server.gateway is not None:
                    self.answer(200, server.gateway)
                else:
                    self.answer(404, {"error": {"name": "NotFoundError", "message": "no route"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"method": "POST", "path": self.path, "body": body,
                                        "authorization": self.headers.get("Authorization")})
                if server.status != 200:
                    self.answer(server.status, {"error": {"message": "rows[0].tenure: required"}})
                else:
                    self.answer(200, {"predictions": [{"via": server.name}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def posts(self) -> List[Dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def running(url: str) -> Dict[str, Any]:
    return {"nativeDataPlane": {"state": "running", "url": url}}


class DataPlaneTest(unittest.TestCase):
    def setUp(self) -> None:
        self.plane = Server("data-plane")
        self.portal = Server("portal", gateway=running(self.plane.url))
        self.addCleanup(self.portal.stop)

    def client(self, **kwargs: Any) -> Client:
        return Client(self.portal.url, "secret-token", timeout=5, **kwargs)

    def test_predictions_go_to_the_data_plane_the_platform_names(self):
        client = self.client()
        self.assertEqual(client.invocation_url, self.plane.url)
        for _ in range(3):
            self.assertEqual(client.predict("churn", {"tenure": 1}), [{"via": "data-plane"}])
        self.assertEqual([p["path"] for p in self.plane.posts()], [PREDICT] * 3)
        self.assertEqual(self.plane.posts()[0]["body"], {"dataframe_records": [{"tenure": 1}]})
        self.assertEqual(self.plane.posts()[0]["authorization"], "Bearer secret-token")
        # Asked once where the data plane is; no prediction reached the portal.
        self.assertEqual([r["path"] for r in self.portal.requests], ["/api/ml-platform/gateway"])
        self.plane.stop()

    def test_a_data_plane_that_is_gone_sends_predictions_to_the_portal(self):
        client = self.client()
        self.assertEqual(client.invocation_url, self.plane.url)
        self.plane.stop()
        self.assertEqual(client.predict("churn", {"tenure": 1}), [{"via": "portal"}])
        self.assertEqual(client.predict("churn", {"tenure": 2}), [{"via": "portal"}])
        self.assertEqual(client.invocation_url, self.portal.url)
        # Asked again after a while: the platform names the data plane again.
        restarted = Server("data-plane")
        self.addCleanup(restarted.stop)
        self.portal.gateway = running(restarted.url)
        with mock.patch.object(client_module, "_DATA_PLANE_RETRY_S", 0.0):
            client._invoker_until = 0.0
            self.assertEqual(client.predict("churn", {"tenure": 3}), [{"via": "data-plane"}])

    def test_an_error_from_the_data_plane_is_the_answer(self):
        self.plane.status = 400
        client = self.client()
        with self.assertRaises(InvalidInput) as caught:
            client.predict("churn", {"tenure": 1})
        self.assertEqual(caught.exception.message, "rows[0].tenure: required")
        # Not sent again to the portal: the platform already answered.
        self.assertEqual(self.portal.posts(), [])
        self.plane.stop()

    def test_the_portal_when_told_so_or_when_it_names_no_data_plane(self):
        self.assertEqual(self.client(data_plane=False).predict("churn", {}), [{"via": "portal"}])
        for gateway in [None, {"nativeDataPlane": {"state": "not-installed"}},
                        {"nativeDataPlane": {"state": "running", "url": "http://u:p@evil/"}},
                        {"nativeDataPlane": {"state": "running", "url": "-x"}},
                        {"unexpected": True}]:
            self.portal.gateway = gateway
            client = self.client()
            self.assertEqual(client.invocation_url, self.portal.url)
            self.assertEqual(client.predict("churn", {}), [{"via": "portal"}])
        self.assertEqual(self.plane.posts(), [])
        self.plane.stop()

    def test_a_portal_that_cannot_be_reached_is_unavailable(self):
        self.plane.stop()
        self.portal.stop()
        with self.assertRaises(Unavailable):
            Client(self.portal.url, "t", timeout=5).predict("churn", {})


if __name__ == "__main__":
    unittest.main()
