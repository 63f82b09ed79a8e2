"""The Python glue over the host library: every shared v1 vector through the generated
bindings, the error mapping and the outbox. Run by scripts/test-foreign.sh.

Environment: PERMITSEAL_BINDINGS (directory holding permitseal_mobile.py and the library),
PERMITSEAL_VECTORS (vectors.json and vectors-2.json, separated by os.pathsep),
PERMITSEAL_VERDICTS_OUT (file to write verdicts to), PERMITSEAL_DEVICE_VECTORS
(device-reports.json).
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.environ["PERMITSEAL_BINDINGS"])

import permitseal_mobile as ps  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402
from test_sync import HttpClientTransport, PySigner  # noqa: E402

VERDICTS = {
    ps.VerdictKind.VALID: "valid",
    ps.VerdictKind.VALID_WITH_WARNINGS: "valid_with_warnings",
    ps.VerdictKind.INVALID: "invalid",
}


def load_vector_files():
    """PERMITSEAL_VECTORS: one or more vector files, separated by os.pathsep."""
    docs = []
    for path in os.environ["PERMITSEAL_VECTORS"].split(os.pathsep):
        with open(path, encoding="utf-8") as f:
            docs.append(json.load(f))
    return docs


def load_vectors():
    return load_vector_files()[0]


def check_case(test, roots, case):
    """One case as test-vectors/README.md says; the listing line the other languages write."""
    want = case["expected"]
    v = ps.Verifier(roots)
    try:
        test.assertEqual(v.load_bundle(bytes.fromhex(case["bundle"])), ps.BundleLoad.INSTALLED)
    except (ps.SdkFailure.BadBundle, ps.SdkFailure.NotTrusted):
        test.assertEqual(want.get("bundle"), "refused")
        return f'{case["name"]} refused'
    test.assertNotEqual(want.get("bundle"), "refused")
    deltas = []
    for d in case.get("deltas", []):
        try:
            v.apply_status_delta(bytes.fromhex(d))
            deltas.append("applied")
        except (ps.SdkFailure.BadBundle, ps.SdkFailure.NotTrusted):
            deltas.append("refused")
    test.assertEqual(deltas, want.get("deltas", []))
    if case["time_floor"] is not None:
        v.set_time_floor(case["time_floor"])
    checkpoint = {"import": ps.CheckpointKind.IMPORT, "inspection": ps.CheckpointKind.INSPECTION}.get(
        case["checkpoint"], ps.CheckpointKind.EXPORT)
    r = v.verify_at(case["qr"], case["now"], checkpoint, ps.Language.ES)
    codes = sorted(x.code for x in r.reasons)
    test.assertEqual(VERDICTS[r.verdict], want["verdict"])
    test.assertEqual(codes, want["reasons"])
    test.assertEqual(r.permit.number if r.permit else None, want["permit_number"])
    # The support report says the same verdict, without the permit number.
    text = v.explain(case["qr"], case["now"], checkpoint)
    test.assertEqual(json.loads(text)["verdict"], want["verdict"])
    if want["permit_number"]:
        test.assertNotIn(want["permit_number"], text)
    line = f'{case["name"]} {VERDICTS[r.verdict]} {",".join(codes)}'
    return line + (f' {",".join(deltas)}' if deltas else "")


class Vectors(unittest.TestCase):
    def test_every_v1_vector(self):
        lines = []
        docs = load_vector_files()
        self.assertGreaterEqual(sum(len(doc["cases"]) for doc in docs), 63)
        for doc in docs:
            roots = [bytes.fromhex(k) for k in doc["root_public_keys"]]
            for case in doc["cases"]:
                with self.subTest(case["name"]):
                    lines.append(check_case(self, roots, case))
        with open(os.environ["PERMITSEAL_VERDICTS_OUT"], "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


class Errors(unittest.TestCase):
    def test_variants(self):
        with self.assertRaises(ps.SdkFailure.BadRootKey):
            ps.Verifier([b"\x00" * 31])
        roots = [bytes.fromhex(k) for k in load_vectors()["root_public_keys"]]
        v = ps.Verifier(roots)
        with self.assertRaises(ps.SdkFailure.NoBundle):
            v.verify("PS1:x", ps.Language.EN)
        with self.assertRaises(ps.SdkFailure.BadBundle):
            v.load_bundle(b"PSB1")
        self.assertFalse(v.has_bundle())
        self.assertIsNone(v.newest_signed_time())


class OutboxTests(unittest.TestCase):
    def test_enqueue_and_reopen(self):
        with tempfile.TemporaryDirectory() as d:
            ob = ps.Outbox.open(d)
            a = ob.enqueue_scan(
                ps.ScanReport(
                    qr_text="PS1:ABC",
                    scanned_at=1_796_000_000,
                    place=ps.Place.LOCODE(code="KEMBA"),
                    verdict=ps.VerdictKind.VALID,
                    device_id="py-device",
                    officer_id=None,
                )
            )
            with self.assertRaises(ps.SdkFailure.InvalidInput):
                ob.enqueue_endorsement(
                    ps.ExportEndorsement(
                        qr_text="PS1:ABC",
                        lines=[ps.EndorsedLine(block="a", quantity="1")],
                        port="KEMBA",
                        transport_document=None,
                        endorsed_at=1_796_000_000,
                        device_id="py-device",
                        officer_id=None,
                    )
                )
            self.assertEqual(ob.pending_count(), 1)
            del ob
            ob = ps.Outbox.open(d)
            self.assertEqual([i.id for i in ob.list_pending(5)], [a])
            self.assertEqual(ob.oldest_pending_age_seconds(1_796_000_010), 10)


def ecdsa_ok(public_key, message, rs):
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    sig = encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))
    try:
        key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


class LockedSigner(ps.DeviceSigner):
    def __init__(self, inner):
        self.inner = inner

    def public_key(self):
        return self.inner.public_key()

    def sign(self, message):
        raise ps.SignerError.UserActionRequired("device locked")


class DeviceTests(unittest.TestCase):
    def setUp(self):
        with open(os.environ["PERMITSEAL_DEVICE_VECTORS"], encoding="utf-8") as f:
            self.doc = json.load(f)
        self.devices = {d["label"]: d for d in self.doc["devices"]}

    def test_key_ids_and_enrolment_proofs(self):
        for d in self.devices.values():
            pk = bytes.fromhex(d["public_key"])
            self.assertEqual(ps.device_key_id(pk), d["key_id"])
            self.assertTrue(ecdsa_ok(pk, bytes.fromhex(d["enrolment_message"]),
                                     bytes.fromhex(d["enrolment_proof"])))
        with self.assertRaises(ps.SdkFailure.InvalidInput):
            ps.device_key_id(b"\x02" * 33)

    def test_signatures_verify_over_the_published_bytes_exactly_when_accepted(self):
        checked = 0
        for c in self.doc["cases"]:
            sig, want = c["report"].get("signature"), c["expected"]
            if not (c["message"] and sig and c["uploader"]):
                continue
            if not want["accepted"] and want["code"] != "bad_device_signature":
                continue
            pk = bytes.fromhex(self.devices[c["uploader"]]["public_key"])
            ok = ecdsa_ok(pk, bytes.fromhex(c["message"]), bytes.fromhex(sig))
            self.assertEqual(ok, want["accepted"], c["name"])
            checked += 1
        self.assertGreaterEqual(checked, 5)

    def test_outbox_signs_through_a_python_signer(self):
        signer = PySigner()
        key_id = ps.device_key_id(signer.public_key())
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "outbox")
            ob = ps.Outbox.open_signed(path, signer)
            self.assertEqual(ob.device_key_id(), key_id)
            for i in range(8):
                ob.enqueue_scan(ps.ScanReport(
                    qr_text="PS1:ABC", scanned_at=1_796_000_000 + i,
                    place=ps.Place.LOCODE(code="KEMBA"), verdict=ps.VerdictKind.VALID,
                    device_id="py-device", officer_id=None))
            del ob
            ob = ps.Outbox.open(path)
            listed = ob.list_pending(100)
            self.assertEqual([p.device_key_id for p in listed], [key_id] * 8)
            del ob
            ob = ps.Outbox.open_signed(path, LockedSigner(signer))
            with self.assertRaises(ps.SdkFailure.Signing):
                ob.enqueue_scan(ps.ScanReport(
                    qr_text="PS1:ABC", scanned_at=1_796_000_000,
                    place=ps.Place.LOCODE(code="KEMBA"), verdict=ps.VerdictKind.VALID,
                    device_id="py-device", officer_id=None))
            self.assertEqual(ob.pending_count(), 8)


class SyncTests(unittest.TestCase):
    def test_offline_is_a_result(self):
        with tempfile.TemporaryDirectory() as d:
            ob = ps.Outbox.open(d)
            ob.enqueue_scan(
                ps.ScanReport(
                    qr_text="PS1:ABC",
                    scanned_at=1_796_000_000,
                    place=ps.Place.COORDINATES(latitude=-4.05, longitude=39.66),
                    verdict=ps.VerdictKind.INVALID,
                    device_id="py-device",
                    officer_id=None,
                )
            )
            client = ps.SyncClient("http://127.0.0.1:9", "pst_x", 2, HttpClientTransport())
            report = client.upload(ob, 10)
            self.assertTrue(report.outcome.is_offline())
            self.assertEqual(report.uploaded, 0)
            self.assertEqual(ob.pending_count(), 1)
            with self.assertRaises(ps.SdkFailure.InvalidInput):
                ps.SyncClient("ftp://x", "pst_x", 0, HttpClientTransport())


if __name__ == "__main__":
    unittest.main(verbosity=1)
