"""Local stand-ins for Google's endpoints that firebase-admin calls, served on 127.0.0.1.

Nothing leaves the machine. The SDK keeps its real URLs (https://www.googleapis.com,
https://oauth2.googleapis.com, https://fcm.googleapis.com); it reaches this server through the
standard proxy setting of `requests`, which the SDK uses for every call (``HTTPS_PROXY``), and
trusts it through ``REQUESTS_CA_BUNDLE``: a test certificate authority made here signs the
server's certificate for those host names. So no private attribute of the SDK is touched, and the
requests recorded here are exactly the ones firebase-admin would send to Google.

Served: the securetoken certificate endpoint (public keys of ID tokens), the OAuth 2 token
endpoint (service-account JWT grant) and the FCM v1 send endpoint.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socketserver
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HOSTS = ("www.googleapis.com", "oauth2.googleapis.com", "fcm.googleapis.com")
CERTS_PATH = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"
PROJECT_ID = "demo-wardens"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def certificate(key: rsa.RSAPrivateKey, subject: str, *, issuer_key: rsa.RSAPrivateKey | None = None,
                issuer: x509.Certificate | None = None, hosts: tuple[str, ...] = (),
                ca: bool = False) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder().subject_name(name)
        .issuer_name(issuer.subject if issuer else name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Recorded:
    host: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FcmAnswer:
    status: int
    body: dict[str, Any]


def fcm_ok(project: str = PROJECT_ID) -> FcmAnswer:
    return FcmAnswer(200, {"name": f"projects/{project}/messages/{uuid.uuid4().hex}"})


def fcm_error(status: int, grpc_status: str, message: str, fcm_code: str | None = None) -> FcmAnswer:
    error: dict[str, Any] = {"code": status, "message": message, "status": grpc_status}
    if fcm_code:
        error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": fcm_code}]
    return FcmAnswer(status, {"error": error})


UNREGISTERED = fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
UNAVAILABLE = fcm_error(503, "UNAVAILABLE", "The service is currently unavailable.")
INVALID_ARGUMENT = fcm_error(400, "INVALID_ARGUMENT",
                             "The registration token is not a valid FCM registration token",
                             "INVALID_ARGUMENT")


@dataclass
class GoogleStandIn:
    """The stand-in server and what it has received; tests set its answers."""

    folder: Path
    ca_file: str = ""
    proxy_url: str = ""
    #: kid -> PEM certificate served at the securetoken certificate endpoint.
    certificates: dict[str, str] = field(default_factory=dict)
    certificates_status: int = 200
    #: FCM answer for a registration token (called once per attempt, so it can change).
    fcm_answer: Callable[[str], FcmAnswer] = field(default=lambda token: fcm_ok())
    service_account_key: rsa.RSAPrivateKey | None = None
    service_account_file: str = ""
    requests: list[Recorded] = field(default_factory=list)
    issued_tokens: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what the tests read -------------------------------------------------------------
    def fcm_sends(self) -> list[Recorded]:
        return [r for r in self.requests if r.host == "fcm.googleapis.com"]

    def of_host(self, host: str) -> list[Recorded]:
        return [r for r in self.requests if r.host == host]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0
        self.certificates_status = 200
        self.fcm_answer = lambda token: fcm_ok()

    # --- answers -------------------------------------------------------------------------
    def answer(self, record: Recorded) -> tuple[int, dict[str, Any]]:
        if record.host == "www.googleapis.com" and record.path == CERTS_PATH:
            return self.certificates_status, dict(self.certificates)
        if record.host == "oauth2.googleapis.com" and record.path == "/token":
            return self._token(record)
        if (record.host == "fcm.googleapis.com"
                and record.path == f"/v1/projects/{PROJECT_ID}/messages:send"):
            authorization = record.headers.get("authorization", "")
            if authorization.removeprefix("Bearer ") not in self.issued_tokens:
                return 401, {"error": {"code": 401, "message": "no valid OAuth token",
                                       "status": "UNAUTHENTICATED"}}
            found = self.fcm_answer(record.body["message"]["token"])
            return found.status, found.body
        return 404, {"error": {"code": 404, "message": "not served by the stand-in"}}

    def _token(self, record: Recorded) -> tuple[int, dict[str, Any]]:
        form = record.body
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        assert self.service_account_key is not None
        try:
            claims = jwt.decode(form["assertion"], self.service_account_key.public_key(),
                                algorithms=["RS256"], audience=TOKEN_URI)
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        scopes = claims.get("scope", "").split()
        if not {"https://www.googleapis.com/auth/firebase.messaging",
                "https://www.googleapis.com/auth/cloud-platform"} & set(scopes):
            return 400, {"error": "invalid_scope"}
        token = f"standin-access-{uuid.uuid4().hex}"
        self.issued_tokens.append(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    # --- ID tokens -----------------------------------------------------------------------
    def id_token(self, key: rsa.RSAPrivateKey, kid: str, *, phone: str | None = "+8613700000001",
                 project: str = PROJECT_ID, issued: float | None = None, lifetime: int = 3600,
                 name: str | None = None, uid: str | None = None) -> str:
        """An ID token shaped like the ones Firebase phone sign-in issues (real wall clock)."""
        issued = time.time() if issued is None else issued
        uid = uid or uuid.uuid4().hex[:28]
        claims: dict[str, Any] = {
            "iss": f"https://securetoken.google.com/{project}", "aud": project,
            "auth_time": int(issued), "user_id": uid, "sub": uid, "iat": int(issued),
            "exp": int(issued) + lifetime,
            "firebase": {"identities": {"phone": [phone] if phone else []},
                         "sign_in_provider": "phone"},
        }
        if phone:
            claims["phone_number"] = phone
        if name:
            claims["name"] = name
        return jwt.encode(claims, private_pem(key), algorithm="RS256", headers={"kid": kid})


class _Tunnel(socketserver.StreamRequestHandler):
    """An HTTP proxy that accepts CONNECT and answers inside the tunnel as the Google host."""

    server: _ProxyServer

    def handle(self) -> None:
        request_line = self.rfile.readline(65537).decode("latin-1").split()
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass
        if len(request_line) != 3 or request_line[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host = request_line[1].rsplit(":", 1)[0]
        if host not in HOSTS:
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        try:
            tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            _Google(tls, self.client_address, self.server)
        finally:
            tls.close()


class _Google(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve(None)

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            from urllib.parse import parse_qsl

            body: Any = dict(parse_qsl(raw.decode()))
        else:
            body = json.loads(raw or b"null")
        self._serve(body)

    def _serve(self, body: Any) -> None:
        standin = self.server.standin
        record = Recorded(self.headers.get("Host", "").split(":")[0], self.command, self.path,
                          {k.lower(): v for k, v in self.headers.items()}, body)
        with standin._lock:
            standin.requests.append(record)
            standin.in_flight += 1
            standin.max_in_flight = max(standin.max_in_flight, standin.in_flight)
        try:
            status, answer = standin.answer(record)
        finally:
            with standin._lock:
                standin.in_flight -= 1
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, standin: GoogleStandIn, tls: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.standin = standin
        self.tls = tls


def start() -> tuple[GoogleStandIn, Callable[[], None]]:
    """Start the stand-in on 127.0.0.1 (a free port); return it and its stop function."""
    folder = Path(tempfile.mkdtemp(prefix="wardens-google-standin-"))
    ca_key, host_key = new_key(), new_key()
    ca = certificate(ca_key, "Wardens test CA", ca=True)
    host_cert = certificate(host_key, HOSTS[0], issuer_key=ca_key, issuer=ca, hosts=HOSTS)
    (folder / "ca.pem").write_text(pem(ca))
    (folder / "host.pem").write_text(pem(host_cert) + private_pem(host_key))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(folder / "host.pem")
    standin = GoogleStandIn(folder=folder, ca_file=str(folder / "ca.pem"))
    standin.service_account_key = new_key()
    account = {
        "type": "service_account", "project_id": PROJECT_ID, "private_key_id": "standin-sa-key",
        "private_key": private_pem(standin.service_account_key),
        "client_email": f"wardens-tests@{PROJECT_ID}.iam.gserviceaccount.com",
        "client_id": "100000000000000000001", "token_uri": TOKEN_URI,
    }
    (folder / "service-account.json").write_text(json.dumps(account))
    standin.service_account_file = str(folder / "service-account.json")
    server = _ProxyServer(standin, tls)
    standin.proxy_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="google-standin", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return standin, stop
