#!/usr/bin/env python3
"""A bearer-token server for tests (the distribution spec's token authentication).

Checks basic credentials against a users file ("user:password" lines), then issues RS256 JWTs
signed with `openssl dgst -sha256 -sign`, with the signing certificate in the "x5c" header, as
docker-registry's auth.token expects. Anonymous requests get pull-only tokens when
--anonymous-pull is given, else 401. Listens on 127.0.0.1 only; stdlib only.
"""
import argparse
import base64
import binascii
import http.server
import json
import subprocess
import sys
import time
import urllib.parse
import uuid


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64(pem_path: str) -> str:
    lines = open(pem_path, encoding="ascii").read().splitlines()
    body = [l for l in lines if l and not l.startswith("-----")]
    return "".join(body)


class TokenHandler(http.server.BaseHTTPRequestHandler):
    server_version = "comet-test-token/1"

    def log_message(self, fmt, *args):  # never log headers (credentials)
        sys.stderr.write("token_server: %s\n" % (fmt % args))

    def deny(self):
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="comet-test-token"')
        self.send_header("Content-Type", "application/json")
        body = b'{"details":"invalid credentials"}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def user(self):
        """(ok, name): ok is False for wrong credentials, name None when anonymous."""
        header = self.headers.get("Authorization", "")
        if not header:
            return True, None
        if not header.startswith("Basic "):
            return False, None
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False, None
        name, _, password = decoded.partition(":")
        if self.server.users.get(name) != password:
            return False, None
        return True, name

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            self.send_error(404)
            return
        ok, name = self.user()
        if not ok or (name is None and not self.server.anonymous_pull):
            self.deny()
            return
        query = urllib.parse.parse_qs(url.query)
        access = []
        for scope in query.get("scope", []):
            for item in scope.split(" "):
                parts = item.split(":")
                if len(parts) < 3 or parts[0] != "repository":
                    continue
                actions = parts[-1].split(",")
                repo = ":".join(parts[1:-1])
                if name is None:
                    actions = [a for a in actions if a == "pull"]
                access.append({"type": "repository", "name": repo, "actions": actions})
        token = self.server.sign(name or "", query.get("service", [""])[0], access)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class TokenServer(http.server.ThreadingHTTPServer):
    def sign(self, subject, audience, access):
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.cert_b64]}
        claims = {"iss": self.issuer, "sub": subject, "aud": audience, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode()))
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key_path],
                                   input=signing_input.encode(), stdout=subprocess.PIPE,
                                   check=True).stdout
        return signing_input + "." + b64url(signature)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--users", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--anonymous-pull", action="store_true")
    args = parser.parse_args()
    server = TokenServer(("127.0.0.1", args.port), TokenHandler)
    server.users = {}
    for line in open(args.users, encoding="utf-8").read().splitlines():
        if ":" in line:
            user, _, password = line.partition(":")
            server.users[user] = password
    server.key_path = args.key
    server.cert_b64 = cert_der_b64(args.cert)
    server.issuer = args.issuer
    server.anonymous_pull = args.anonymous_pull
    server.serve_forever()


if __name__ == "__main__":
    main()
