"""The Python glue over the host library: every shared v1 vector through the generated
bindings, the error mapping and the outbox. Run by scripts/test-foreign.sh.

Environment: PERMITSEAL_BINDINGS (directory holding permitseal_mobile.py and the library),
PERMITSEAL_VECTORS (vectors.json), PERMITSEAL_VERDICTS_OUT (file to write verdicts to).
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.environ["PERMITSEAL_BINDINGS"])

import permitseal_mobile as ps  # noqa: E402
from test_sync import HttpClientTransport  # noqa: E402

VERDICTS = {
    ps.VerdictKind.VALID: "valid",
    ps.VerdictKind.VALID_WITH_WARNINGS: "valid_with_warnings",
    ps.VerdictKind.INVALID: "invalid",
}


def load_vectors():
    with open(os.environ["PERMITSEAL_VECTORS"], encoding="utf-8") as f:
        return json.load(f)


class Vectors(unittest.TestCase):
    def test_every_v1_vector(self):
        doc = load_vectors()
        roots = [bytes.fromhex(k) for k in doc["root_public_keys"]]
        lines = []
        self.assertGreaterEqual(len(doc["cases"]), 30)
        for case in doc["cases"]:
            with self.subTest(case["name"]):
                v = ps.Verifier(roots)
                self.assertEqual(v.load_bundle(bytes.fromhex(case["bundle"])), ps.BundleLoad.INSTALLED)
                if case["time_floor"] is not None:
                    v.set_time_floor(case["time_floor"])
                checkpoint = ps.CheckpointKind.IMPORT if case["checkpoint"] == "import" else ps.CheckpointKind.EXPORT
                r = v.verify_at(case["qr"], case["now"], checkpoint, ps.Language.ES)
                want = case["expected"]
                codes = sorted(x.code for x in r.reasons)
                self.assertEqual(VERDICTS[r.verdict], want["verdict"])
                self.assertEqual(codes, want["reasons"])
                self.assertEqual(r.permit.number if r.permit else None, want["permit_number"])
                lines.append(f'{case["name"]} {VERDICTS[r.verdict]} {",".join(codes)}')
                # The support report says the same verdict, without the permit number.
                text = v.explain(case["qr"], case["now"], checkpoint)
                self.assertEqual(json.loads(text)["verdict"], want["verdict"])
                if want["permit_number"]:
                    self.assertNotIn(want["permit_number"], text)
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
