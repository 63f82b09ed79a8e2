"""The sync client through a Python transport (http.client) against the real server, which
tests/foreign_sync.rs starts and checks.

Usage: test_sync.py <spec file>   (key=value lines; mode=scenario or mode=child)
Environment: PERMITSEAL_BINDINGS (directory holding permitseal_mobile.py and the library).
"""

import http.client
import os
import socket
import ssl
import sys
import time
import urllib.parse

sys.path.insert(0, os.environ["PERMITSEAL_BINDINGS"])

import permitseal_mobile as ps  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402


class PySigner(ps.DeviceSigner):
    """A device key in software (the `cryptography` package): ECDSA P-256, DER signatures."""

    def __init__(self, key=None):
        self.key = key or ec.generate_private_key(ec.SECP256R1())

    def public_key(self):
        return self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def sign(self, message):
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))


class HttpClientTransport(ps.HttpTransport):
    """The transport over the standard library: the system's CA store for https."""

    def send(self, request, authorization):
        url = urllib.parse.urlsplit(request.url)
        timeout = request.timeout_millis / 1000
        deadline = time.monotonic() + timeout
        if url.scheme == "https":
            conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=timeout,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        method = "POST" if request.method == ps.HttpMethod.POST else "GET"
        headers = {h.name: h.value for h in request.headers}
        headers["Authorization"] = authorization
        try:
            conn.request(method, url.path or "/", body=bytes(request.body) if method == "POST" else None,
                         headers=headers)
            resp = conn.getresponse()
            body = bytearray()
            while True:
                if time.monotonic() > deadline:
                    raise ps.TransportError.Timeout("reading the answer: deadline passed")
                chunk = resp.read(16384)
                if not chunk:
                    break
                body += chunk
                if len(body) > request.max_response_bytes:
                    raise ps.TransportError.Offline(f"response larger than {request.max_response_bytes} bytes")
            headers = [ps.HttpHeader(name=n, value=v) for n, v in resp.getheaders()]
            return ps.HttpResponse(status=resp.status, headers=headers, body=bytes(body))
        except (socket.timeout, TimeoutError) as e:
            raise ps.TransportError.Timeout(str(e) or "socket timeout")
        except ssl.SSLError as e:
            raise ps.TransportError.Tls(str(e))
        except (OSError, http.client.HTTPException) as e:
            raise ps.TransportError.Offline(repr(e))
        finally:
            conn.close()


class Broken(ps.HttpTransport):
    def send(self, request, authorization):
        raise ValueError("broken transport")


def scan(qr, at):
    return ps.ScanReport(qr_text=qr, scanned_at=at, place=ps.Place.LOCODE(code="KEMBA"),
                         verdict=ps.VerdictKind.VALID, device_id="py-device", officer_id="officer-py")


passed = 0
failed = 0


def check(name, body):
    global passed, failed
    try:
        body()
        passed += 1
    except Exception as e:  # noqa: BLE001 - a failed check is reported, the rest still run
        failed += 1
        print(f"FAIL {name}: {e!r}")


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    transport = HttpClientTransport()

    if spec["mode"] == "child":
        outbox = ps.Outbox.open(spec["dir"])
        client = ps.SyncClient(spec["url"], spec["token"], 10, transport)
        print(f"STARTED {outbox.pending_count()}", flush=True)
        print(f"DONE {client.upload(outbox, 1)}", flush=True)
        return 0

    now = int(spec["now"])
    qr = spec["qr"]
    verifier = ps.Verifier([bytes.fromhex(spec["root_key"])])
    client = ps.SyncClient(spec["url"], spec["token"], 10, transport)
    outbox = ps.Outbox.open(spec["dir"])
    state = {}

    def bundle_and_etag():
        r = client.sync_bundle(verifier, None)
        assert r.is_updated() and r.load == ps.BundleLoad.INSTALLED, r
        assert r.etag, "no ETag"
        state["etag"] = r.etag
        v = verifier.verify(qr, ps.Language.EN)
        assert v.verdict == ps.VerdictKind.VALID, [x.code for x in v.reasons]
        assert client.sync_bundle(verifier, r.etag).is_up_to_date()

    def batches_and_refusal():
        ids = [outbox.enqueue_scan(scan(qr, now - 600 + i)) for i in range(5)]
        outbox.enqueue_endorsement(ps.ExportEndorsement(
            qr_text=qr, lines=[ps.EndorsedLine(block="A", quantity="12.5")], port="KEMBA",
            transport_document="MSKU7654321", endorsed_at=now - 60, device_id="py-device",
            officer_id="officer-py"))
        try:
            outbox.enqueue_scan(scan(qr, now + 3 * 86_400))
            raise AssertionError("a scan three days ahead was queued")
        except ps.SdkFailure.InvalidInput:
            pass  # refused when recorded, as the server would refuse it
        report = client.upload(outbox, 2)
        assert report.outcome.is_done(), report
        assert (report.uploaded, report.rejected) == (6, 0), report
        assert outbox.pending_count() == 0 and outbox.stats().rejected == 0
        for i in ids:
            print(f"STORED {i}")

    def endorsement_in_next_bundle():
        assert client.sync_bundle(verifier, state["etag"]).is_updated()
        v = verifier.verify_at(qr, now, ps.CheckpointKind.EXPORT, ps.Language.EN)
        assert "USED" in [x.code for x in v.reasons], [x.code for x in v.reasons]

    def stranger():
        i = outbox.enqueue_scan(scan(qr, now - 100))
        other = ps.SyncClient(spec["url"], spec["stranger"], 10, transport)
        assert other.upload(outbox, 10).outcome.is_auth_failed()
        assert outbox.pending_count() == 1
        report = client.upload(outbox, 10)
        assert report.outcome.is_done() and report.uploaded == 1, report
        print(f"STORED {i}")

    def closed():
        r = ps.SyncClient(spec["closed_url"], spec["token"], 2, transport).sync_bundle(verifier, None)
        assert r.is_offline(), r

    def silent():
        start = time.monotonic()
        r = ps.SyncClient(spec["silent_url"], spec["token"], 1, transport).sync_bundle(verifier, None)
        took = time.monotonic() - start
        assert r.is_offline() and "timed out" in r.reason, r
        assert took < 3, took

    def untrusted():
        r = ps.SyncClient(spec["untrusted_url"], spec["token"], 5, transport).sync_bundle(verifier, None)
        assert r.is_offline() and r.reason.startswith("TLS failure"), r

    def broken():
        outbox.enqueue_scan(scan(qr, now - 50))
        report = ps.SyncClient(spec["url"], spec["token"], 2, Broken()).upload(outbox, 10)
        assert report.outcome.is_offline(), report
        assert outbox.pending_count() == 1

    def device_key():
        signer = PySigner()
        key_id = ps.device_key_id(signer.public_key())
        device = ps.SyncClient(spec["url"], spec["device_token"], 10, transport)
        for _ in range(2):
            r = device.enrol_device(signer)
            assert r.is_enrolled() and r.device_key_id == key_id, r
        assert device.enrol_device(PySigner()).is_conflict()
        unsigned = ps.Outbox.open(spec["device_dir"])
        unsigned.enqueue_scan(scan(qr, now - 500))  # queued before the key was enrolled
        del unsigned
        ob = ps.Outbox.open_signed(spec["device_dir"], signer)
        ids = [ob.enqueue_scan(scan(qr, now - 400 + i)) for i in range(3)]
        ids.append(ob.enqueue_endorsement(ps.ExportEndorsement(
            qr_text=qr, lines=[ps.EndorsedLine(block="A", quantity="1")], port="KEMBA",
            transport_document=None, endorsed_at=now - 30, device_id="py-device",
            officer_id="officer-py")))
        report = device.upload(ob, 10)
        assert report.outcome.is_done(), report
        assert (report.uploaded, report.rejected) == (4, 1), report
        print(f"DEVICE_KEY {key_id}")
        for i in ids:
            print(f"SIGNED {i}")

    check("bundle fetched and installed, then up to date by its ETag", bundle_and_etag)
    check("upload in batches of two; what the server would refuse is refused when recorded", batches_and_refusal)
    check("the endorsement is in the next bundle", endorsement_in_next_bundle)
    check("a token the server does not know", stranger)
    check("nothing listens: offline", closed)
    check("a server that never answers: offline by the timeout", silent)
    check("a certificate the platform does not trust: a TLS failure", untrusted)
    check("a transport that throws something unexpected: offline", broken)
    check("device key: enrolled through a Python signer, every item signed, unsigned refused",
          device_key)
    print(f"sync: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
