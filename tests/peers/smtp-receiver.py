#!/usr/bin/python3
# An SMTP server for Lifeboat's tests (Debian's python3-aiosmtpd), on a free loopback port. Every message it accepts
# is saved as DIR/NNNN.eml (the bytes as received, written to a temporary name and renamed) and printed as one JSON
# line: {"file", "mailFrom", "rcptTos", "login", "tls"}. With --cert/--key it offers STARTTLS and, with --require-tls,
# refuses MAIL before it; with --user/--password it requires AUTH (PLAIN or LOGIN, only over TLS) with that login.
# Usage: /usr/bin/python3 smtp-receiver.py --dir DIR [--cert PEM --key PEM [--require-tls]] [--user U --password P]
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--dir", required=True)
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--require-tls", action="store_true")
parser.add_argument("--user")
parser.add_argument("--password")
args = parser.parse_args()

count = 0


class Handler:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        name = os.path.join(args.dir, "%04d.eml" % count)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else session.auth_data
        print(json.dumps({"file": name, "mailFrom": envelope.mail_from, "rcptTos": envelope.rcpt_tos,
                          "login": login, "tls": session.ssl is not None}), flush=True)
        return "250 OK saved"


def authenticate(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password:
        return AuthResult(success=True, auth_data=auth_data.login)
    print(json.dumps({"authFailed": mechanism}), flush=True)
    return AuthResult(success=False, handled=False)


def factory():
    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    auth = args.user is not None
    return SMTP(Handler(), hostname="lifeboat-test-smtp", tls_context=context, require_starttls=args.require_tls,
                auth_required=auth, auth_require_tls=context is not None,
                authenticator=authenticate if auth else None, decode_data=False)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print("smtp receiver listening on 127.0.0.1:%d" % port, flush=True)
    async with server:
        await server.serve_forever()


try:
    asyncio.run(main())
except KeyboardInterrupt:
    sys.exit(0)
