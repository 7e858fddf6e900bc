"""A Docker token service for tests: Basic credentials in, RS256 JWTs the real registry trusts out.

The registry is configured with this server's self-signed certificate as its
``rootcertbundle``; tokens carry the certificate in their ``x5c`` header, the
way distribution's token auth verifies them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SERVICE = "regcopy-test-registry"
ISSUER = "regcopy-test-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """Grants every requested action to known users; ``denied`` repositories get nothing."""

    def __init__(self, root: Path, users: dict[str, str], *, lifetime: int = 300) -> None:
        self.users = users
        self.lifetime = lifetime
        self.denied: set[str] = set()
        self.anonymous_pull = False
        # Issue this many tokens that are already expired while claiming a long lifetime,
        # the way a token revoked or expired mid-run looks to a client.
        self.stale_tokens = 0
        # Optional policy for push: TCR only accepts pushes into namespaces created through its API.
        self.push_allowed: Callable[[str], bool] | None = None
        # HTTP statuses to answer the next token requests with (an outage of the token service).
        self.fail_next: list[int] = []
        self.requests: Counter[str] = Counter()
        self.scopes_seen: list[tuple[str, ...]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.timezone.utc)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = root / "token-cert.pem"
        self.cert_path.parent.mkdir(parents=True, exist_ok=True)
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def registry_auth(self) -> dict[str, object]:
        return {
            "token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER, "rootcertbundle": str(self.cert_path)}
        }

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def issue(self, subject: str, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or name in self.denied:
                continue
            wanted = [a for a in actions.split(",") if a]
            if self.push_allowed is not None and not self.push_allowed(name):
                wanted = [a for a in wanted if a != "push"]
            if not subject:
                wanted = [a for a in wanted if a == "pull"] if self.anonymous_pull else []
            access.append({"type": kind, "name": name, "actions": wanted})
        now = int(time.time())
        expires = now + self.lifetime
        if self.stale_tokens > 0:
            self.stale_tokens -= 1
            expires = now - 60
        header = {
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()],
        }
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": expires,
            "nbf": now - 120,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != "/token":
                    self.send_error(404)
                    return
                server.requests["token"] += 1
                if server.fail_next:
                    self._reply(server.fail_next.pop(0), {"errors": [{"code": "UNAVAILABLE", "message": "outage"}]})
                    return
                query = parse_qs(url.query)
                subject = ""
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if server.users.get(user) != password:
                        self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                        return
                    subject = user
                elif not server.anonymous_pull:
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
                    return
                scopes = query.get("scope", [])
                server.scopes_seen.append(tuple(scopes))
                token = server.issue(subject, scopes)
                self._reply(200, {"token": token, "access_token": token, "expires_in": server.lifetime})

            def _reply(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
