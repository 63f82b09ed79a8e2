"""Device signatures on field reports (docs/FORMAT.md §10), written from the text alone.

Builds the signed bytes of every report in test-vectors/v1/device-reports.json from its JSON,
checks them against the published `message`, and applies the upload rule of §10.5 with the
`cryptography` package's ECDSA P-256. Run through verify.py:

    python3 test-vectors/independent/verify.py test-vectors/v1/device-reports.json
"""
import datetime
import hashlib
import re
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
NS_SCAN = b"permitseal/v1/device-scan"
NS_ENDORSEMENT = b"permitseal/v1/device-endorsement"
NS_KEY_ID = b"permitseal/v1/device-key-id"
NS_ENROLMENT = b"permitseal/v1/device-enrolment"
VERDICTS = {"valid": 0, "valid_with_warnings": 1, "invalid": 2}


class Refused(Exception):
    """A report refused with an error code."""


def key_id(public_key):
    return hashlib.sha256(NS_KEY_ID + b"\0" + public_key).digest()[:16]


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def s(text):
    b = text.encode("utf-8")
    return varint(len(b)) + b


def opt(value, enc):
    return b"\0" if value is None else b"\1" + enc(value)


def text(value):
    """Canonical free text: surrounding white space removed (§10.2)."""
    return None if value is None else value.strip()


def time(value):
    t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(t.timestamp())


def place(p):
    locode = p.get("locode")
    out = opt(None if locode is None else locode.strip().upper(), s)
    if p.get("lat") is None:
        return out + b"\0"
    return out + b"\1" + struct.pack(">dd", float(p["lat"]), float(p["lon"]))


def quantity(q):
    """The normalised decimal of §10.3."""
    whole, _, frac = str(q).strip().partition(".")
    whole, frac = whole.lstrip("0") or "0", frac.rstrip("0")
    return whole + ("." + frac if frac else "")


def qr(value):
    return value.strip(" \t\r\n")


def message(kind, r, kid):
    head = (NS_SCAN if kind == "scan" else NS_ENDORSEMENT) + b"\0" + kid
    head += s(r["id"].strip()) + s(text(r["device_id"])) + opt(text(r.get("officer")), s)
    if kind == "scan":
        return head + struct.pack(">q", time(r["scanned_at"])) + place(r["place"]) \
            + bytes([VERDICTS[r["verdict"]]]) + s(qr(r["qr"]))
    body = head + struct.pack(">q", time(r["endorsed_at"])) + place(r["place"])
    body += opt(text(r.get("transport_document")), s) + bytes([len(r["lines"])])
    for line in r["lines"]:
        body += line["block"].strip().upper().encode("ascii") + s(quantity(line["quantity"]))
    return body + s(qr(r["qr"]))


def signature_fields(r):
    """(key id, r, s) or None; refuses what §10.1 does not admit."""
    k, sig = r.get("device_key_id"), r.get("signature")
    if k is None and sig is None:
        return None
    if k is None or sig is None or not re.fullmatch("[0-9a-f]{32}", k) \
            or not re.fullmatch("[0-9a-f]{128}", sig):
        raise Refused("invalid_signature")
    rr, ss = int(sig[:64], 16), int(sig[64:], 16)
    if not (1 <= rr < N and 1 <= ss < N) or ss > N // 2:
        raise Refused("invalid_signature")
    return bytes.fromhex(k), rr, ss


def ecdsa_ok(public_key, msg, rr, ss):
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
        key.verify(encode_dss_signature(rr, ss), msg, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


def check(kind, report, enrolled):
    """The §10.5 rule for `report` uploaded by a token whose key is `enrolled` (or None)."""
    sig = signature_fields(report)
    if sig is None:
        if enrolled is not None:
            raise Refused("signature_required")
        return None
    kid, rr, ss = sig
    if enrolled is None:
        raise Refused("device_not_enrolled")
    if kid != key_id(enrolled):
        raise Refused("device_key_mismatch")
    msg = message(kind, report, kid)
    if not ecdsa_ok(enrolled, msg, rr, ss):
        raise Refused("bad_device_signature")
    return msg


def run(doc):
    """Checks every case; returns the number of disagreements."""
    devices = {d["label"]: d for d in doc["devices"]}
    bad = 0
    for d in devices.values():
        pk = bytes.fromhex(d["public_key"])
        proof = d["enrolment_proof"]
        ok = key_id(pk).hex() == d["key_id"] and ecdsa_ok(
            pk, NS_ENROLMENT + b"\0" + pk, int(proof[:64], 16), int(proof[64:], 16))
        if not ok:
            print(f"FAIL device {d['label']}: key id or enrolment proof")
            bad += 1
    for case in doc["cases"]:
        name, report = case["name"], case["report"]
        uploader = case["uploader"]
        enrolled = None if uploader is None else bytes.fromhex(devices[uploader]["public_key"])
        try:
            check(case["kind"], report, enrolled)
            got = {"accepted": True}
        except Refused as refusal:
            got = {"accepted": False, "code": str(refusal)}
        if case["message"] is not None and report.get("device_key_id"):
            built = message(case["kind"], report, bytes.fromhex(report["device_key_id"])).hex()
            if built != case["message"]:
                print(f"FAIL {name}: message bytes differ")
                bad += 1
                continue
        if got != case["expected"]:
            print(f"FAIL {name}: got {got}, expected {case['expected']}")
            bad += 1
        else:
            print(f"ok   {name}")
    return bad
