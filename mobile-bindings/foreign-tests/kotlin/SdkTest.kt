// The Kotlin glue over the host library (JNA): every shared v1 vector through the generated
// bindings, the error mapping, and the outbox. Run by scripts/test-foreign.sh.
//
// Usage: SdkTest <vectors.json[:vectors-2.json…]> <scratch dir> <verdicts out file>
//                [device-reports.json]

import java.io.File
import kotlin.system.exitProcess
import org.permitseal.mobile.*

// A small JSON reader: the JVM has none built in, and the test should depend on nothing the
// Rust side provides.
private class Json(private val s: String) {
    private var i = 0

    fun parse(): Any? {
        val v = value()
        ws()
        require(i == s.length) { "trailing data at $i" }
        return v
    }

    private fun ws() {
        while (i < s.length && s[i].isWhitespace()) i++
    }

    private fun value(): Any? {
        ws()
        return when (s[i]) {
            '{' -> obj()
            '[' -> arr()
            '"' -> str()
            't' -> lit("true", true)
            'f' -> lit("false", false)
            'n' -> lit("null", null)
            else -> num()
        }
    }

    private fun lit(word: String, v: Any?): Any? {
        require(s.startsWith(word, i)) { "bad literal at $i" }
        i += word.length
        return v
    }

    private fun num(): Any {
        val start = i
        while (i < s.length && (s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] == 'e' ||
                s[i] == 'E' || s[i].isDigit())) i++
        val t = s.substring(start, i)
        return if (t.any { it == '.' || it == 'e' || it == 'E' }) t.toDouble() else t.toLong()
    }

    private fun str(): String {
        val sb = StringBuilder()
        i++
        while (s[i] != '"') {
            if (s[i] == '\\') {
                i++
                when (s[i]) {
                    'n' -> sb.append('\n')
                    't' -> sb.append('\t')
                    'r' -> sb.append('\r')
                    'b' -> sb.append('\b')
                    'f' -> sb.append('\u000c')
                    'u' -> {
                        sb.append(s.substring(i + 1, i + 5).toInt(16).toChar())
                        i += 4
                    }
                    else -> sb.append(s[i])
                }
            } else {
                sb.append(s[i])
            }
            i++
        }
        i++
        return sb.toString()
    }

    private fun arr(): List<Any?> {
        val out = ArrayList<Any?>()
        i++
        ws()
        if (s[i] == ']') { i++; return out }
        while (true) {
            out.add(value())
            ws()
            if (s[i++] == ']') return out
        }
    }

    private fun obj(): Map<String, Any?> {
        val out = LinkedHashMap<String, Any?>()
        i++
        ws()
        if (s[i] == '}') { i++; return out }
        while (true) {
            ws()
            val k = str()
            ws()
            i++ // ':'
            out[k] = value()
            ws()
            if (s[i++] == '}') return out
        }
    }
}

@Suppress("UNCHECKED_CAST")
private fun Any?.obj() = this as Map<String, Any?>
@Suppress("UNCHECKED_CAST")
private fun Any?.arr() = this as List<Any?>

private fun verdictName(v: VerdictKind) = when (v) {
    VerdictKind.VALID -> "valid"
    VerdictKind.VALID_WITH_WARNINGS -> "valid_with_warnings"
    VerdictKind.INVALID -> "invalid"
}

/** One case as test-vectors/README.md says; returns the listing line the other languages write. */
private fun checkCase(roots: List<ByteArray>, c: Map<String, Any?>): String {
    val name = c["name"] as String
    val want = c["expected"].obj()
    Verifier(roots).use { v ->
        try {
            expect(v.loadBundle(unhex(c["bundle"] as String)) == BundleLoad.INSTALLED) { "bundle" }
        } catch (e: SdkFailure) {
            if (e !is SdkFailure.BadBundle && e !is SdkFailure.NotTrusted) throw e
            expect(want["bundle"] == "refused") { "bundle refused: $e" }
            return "$name refused"
        }
        expect(want["bundle"] != "refused") { "bundle accepted" }
        val deltas = (c["deltas"]?.arr() ?: emptyList()).map { d ->
            try {
                v.applyStatusDelta(unhex(d as String))
                "applied"
            } catch (e: SdkFailure) {
                if (e !is SdkFailure.BadBundle && e !is SdkFailure.NotTrusted) throw e
                "refused"
            }
        }
        expect(deltas == (want["deltas"]?.arr() ?: emptyList<Any?>())) { "deltas $deltas" }
        (c["time_floor"] as Long?)?.let { v.setTimeFloor(it) }
        val checkpoint = when (c["checkpoint"]) {
            "import" -> CheckpointKind.IMPORT
            "inspection" -> CheckpointKind.INSPECTION
            else -> CheckpointKind.EXPORT
        }
        val r = v.verifyAt(c["qr"] as String, c["now"] as Long, checkpoint, Language.EN)
        val codes = r.reasons.map { it.code }.sorted()
        expect(verdictName(r.verdict) == want["verdict"]) { "verdict ${r.verdict} != ${want["verdict"]}" }
        expect(codes == want["reasons"].arr()) { "reasons $codes != ${want["reasons"]}" }
        expect(r.permit?.number == want["permit_number"]) { "number ${r.permit?.number}" }
        expect(r.reasons.all { it.message.isNotEmpty() }) { "empty message" }
        // The support report says the same verdict, without the permit number.
        val text = v.explain(c["qr"] as String, c["now"] as Long, checkpoint)
        val report = Json(text).parse().obj()
        expect(report["verdict"] == want["verdict"]) { "report verdict ${report["verdict"]}" }
        (want["permit_number"] as String?)?.let { n ->
            expect(!text.contains(n)) { "the permit number is in the report" }
        }
        val line = "$name ${verdictName(r.verdict)} ${codes.joinToString(",")}"
        return if (deltas.isEmpty()) line else "$line ${deltas.joinToString(",")}"
    }
}

/** r || s (64 bytes) as the DER SEQUENCE java.security verifies. */
private fun der(rs: ByteArray): ByteArray {
    fun int(b: ByteArray): ByteArray {
        val v = java.math.BigInteger(1, b).toByteArray() // minimal, sign byte when needed
        return byteArrayOf(2, v.size.toByte()) + v
    }
    val body = int(rs.copyOfRange(0, 32)) + int(rs.copyOfRange(32, 64))
    return byteArrayOf(0x30, body.size.toByte()) + body
}

/** A SEC1 uncompressed P-256 point as a java.security key. */
private fun ecKey(sec1: ByteArray): java.security.PublicKey {
    val params = java.security.AlgorithmParameters.getInstance("EC").run {
        init(java.security.spec.ECGenParameterSpec("secp256r1"))
        getParameterSpec(java.security.spec.ECParameterSpec::class.java)
    }
    val point = java.security.spec.ECPoint(
        java.math.BigInteger(1, sec1.copyOfRange(1, 33)),
        java.math.BigInteger(1, sec1.copyOfRange(33, 65)))
    return java.security.KeyFactory.getInstance("EC")
        .generatePublic(java.security.spec.ECPublicKeySpec(point, params))
}

private fun ecdsaOk(sec1: ByteArray, message: ByteArray, rs: ByteArray): Boolean =
    java.security.Signature.getInstance("SHA256withECDSA").run {
        initVerify(ecKey(sec1))
        update(message)
        verify(der(rs))
    }

/** A Kotlin signer that fails as a locked device does. */
private class LockedSigner(private val inner: DeviceSigner) : DeviceSigner {
    override fun publicKey(): ByteArray = inner.publicKey()
    override fun sign(message: ByteArray): ByteArray =
        throw SignerException.UserActionRequired("device locked")
}

private fun deviceChecks(path: String, scratch: File) {
    val doc = Json(File(path).readText()).parse().obj()
    val devices = doc["devices"].arr().map { it.obj() }.associateBy { it["label"] as String }

    check("device vectors: key ids and enrolment proofs (bindings and java.security)") {
        for (d in devices.values) {
            val pk = unhex(d["public_key"] as String)
            expect(deviceKeyId(pk) == d["key_id"]) { "key id of ${d["label"]}" }
            expect(ecdsaOk(pk, unhex(d["enrolment_message"] as String),
                unhex(d["enrolment_proof"] as String))) { "proof of ${d["label"]}" }
        }
        try {
            deviceKeyId(ByteArray(33))
            throw AssertionError("accepted a compressed key")
        } catch (e: SdkFailure.InvalidInput) {
        }
    }

    check("device vectors: signatures verify over the published bytes exactly when accepted") {
        var checked = 0
        for (case in doc["cases"].arr()) {
            val c = case.obj()
            val report = c["report"].obj()
            val message = c["message"] as String? ?: continue
            val sig = report["signature"] as String? ?: continue
            val uploader = c["uploader"] as String? ?: continue
            val want = c["expected"].obj()
            val code = want["code"] as String?
            if (want["accepted"] != true && code != "bad_device_signature") continue
            val ok = ecdsaOk(unhex(devices[uploader]!!["public_key"] as String), unhex(message), unhex(sig))
            expect(ok == (want["accepted"] == true)) { "${c["name"]}: java.security says $ok" }
            checked++
        }
        expect(checked >= 5) { "only $checked cases" }
    }

    check("outbox signs through a Kotlin signer (java.security software EC)") {
        val dir = File(scratch, "outbox-signed-kt").apply { deleteRecursively() }
        val signer = SoftwareDeviceSigner.generate()
        val keyId = deviceKeyId(signer.publicKey())
        Outbox.openSigned(dir.path, signer).use { ob ->
            expect(ob.deviceKeyId() == keyId) { "outbox key ${ob.deviceKeyId()}" }
            repeat(8) {
                ob.enqueueScan(ScanReport("PS1:ABC", 1_796_000_000L + it, Place.Locode("KEMBA"),
                    VerdictKind.VALID, "kt-device", null))
            }
        }
        val restored = SoftwareDeviceSigner.restore(signer.privateKeyPkcs8(), signer.publicKeyX509())
        expect(restored.publicKey().contentEquals(signer.publicKey())) { "restored key" }
        Outbox.open(dir.path).use { ob ->
            val listed = ob.listPending(100u)
            expect(listed.size == 8 && listed.all { it.deviceKeyId == keyId }) { "after reopen $listed" }
        }
        Outbox.openSigned(dir.path, LockedSigner(signer)).use { ob ->
            try {
                ob.enqueueScan(ScanReport("PS1:ABC", 1_796_000_000, Place.Locode("KEMBA"),
                    VerdictKind.VALID, "kt-device", null))
                throw AssertionError("queued without a signature")
            } catch (e: SdkFailure.Signing) {
                expect(e.reason.contains("locked")) { e.reason }
            }
            expect(ob.pendingCount() == 8uL) { "pending ${ob.pendingCount()}" }
        }
    }
}

fun main(args: Array<String>) {
    val docs = args[0].split(":").map { Json(File(it).readText()).parse().obj() }
    val doc = docs[0]
    val scratch = File(args[1])
    val verdictsOut = File(args[2])
    val roots = doc["root_public_keys"].arr().map { unhex(it as String) }
    val lines = ArrayList<String>()

    for (d in docs) {
        val fileRoots = d["root_public_keys"].arr().map { unhex(it as String) }
        for (case in d["cases"].arr()) {
            val c = case.obj()
            check("vector ${c["name"]}") { lines.add(checkCase(fileRoots, c)) }
        }
    }
    verdictsOut.writeText(lines.joinToString("\n", postfix = "\n"))

    check("errors map to SdkFailure variants") {
        try {
            Verifier(listOf(ByteArray(31)))
            throw AssertionError("accepted a 31-byte key")
        } catch (e: SdkFailure.BadRootKey) {
            expect(e.index == 0u) { "index ${e.index}" }
        }
        Verifier(roots).use { v ->
            try {
                v.verify("PS1:x", Language.FR)
                throw AssertionError("verified without a bundle")
            } catch (e: SdkFailure.NoBundle) {
            }
            try {
                v.loadBundle(byteArrayOf(1, 2, 3))
                throw AssertionError("loaded garbage")
            } catch (e: SdkFailure.BadBundle) {
            }
            expect(!v.hasBundle()) { "has a bundle" }
            expect(v.bundleAgeSeconds(0) == null) { "age" }
        }
    }

    check("free functions") {
        expect(languageForTag("es-MX") == Language.ES) { "lang" }
        expect(allReasonCodes().contains("REVOKED")) { "codes" }
        expect(reasonMessage("REVOKED", Language.FR)!!.isNotEmpty()) { "message" }
    }

    check("outbox enqueue, reopen, stats") {
        val dir = File(scratch, "outbox-kt").apply { deleteRecursively() }
        val ids = ArrayList<String>()
        Outbox.open(dir.path).use { ob ->
            ids.add(ob.enqueueScan(ScanReport(
                qrText = "PS1:ABC",
                scannedAt = 1_796_000_000,
                place = Place.Coordinates(-4.05, 39.66),
                verdict = VerdictKind.VALID_WITH_WARNINGS,
                deviceId = "kt-device",
                officerId = null,
            )))
            ids.add(ob.enqueueEndorsement(ExportEndorsement(
                qrText = "PS1:ABC",
                lines = listOf(EndorsedLine("A", "12.50")),
                port = "KEMBA",
                transportDocument = null,
                endorsedAt = 1_796_000_100,
                deviceId = "kt-device",
                officerId = "officer-1",
            )))
            try {
                ob.enqueueScan(ScanReport("PS1:ABC", 1_796_000_000, Place.Locode("ZZMBA"),
                    VerdictKind.VALID, "d", null))
                throw AssertionError("accepted country ZZ")
            } catch (e: SdkFailure.InvalidInput) {
                expect(e.field == "place.code") { e.field }
            }
            expect(ob.pendingCount() == 2uL) { "count ${ob.pendingCount()}" }
        }
        Outbox.open(dir.path).use { ob ->
            val stats = ob.stats()
            expect(stats.pending == 2uL) { "pending ${stats.pending}" }
            expect(stats.oldestQueuedAt == 1_796_000_000L) { "oldest ${stats.oldestQueuedAt}" }
            expect(stats.rejected == 0uL) { "rejected ${stats.rejected}" }
            expect(ob.oldestPendingAgeSeconds(1_796_000_060) == 60L) { "age" }
            val listed = ob.listPending(10u)
            expect(listed.map { it.id } == ids) { "ids $listed" }
            expect(listed[1].kind == OutboxItemKind.EXPORT_ENDORSEMENT) { "kind" }
        }
    }

    check("sync client refuses a plain-http remote URL") {
        try {
            SyncClient("http://permits.example.org", "pst_x", 0u, HttpUrlConnectionTransport())
            throw AssertionError("accepted http")
        } catch (e: SdkFailure.InvalidInput) {
            expect(e.field == "base_url") { e.field }
        }
    }

    check("sync client results cross the boundary") {
        val dir = File(scratch, "outbox-sync-kt").apply { deleteRecursively() }
        Outbox.open(dir.path).use { ob ->
            ob.enqueueScan(ScanReport("PS1:ABC", 1_796_000_000, Place.Locode("KEMBA"),
                VerdictKind.INVALID, "kt-device", null))
            // Nothing listens on the discard port: the result is Offline, and the item stays.
            SyncClient("http://127.0.0.1:9", "pst_x", 2u, HttpUrlConnectionTransport()).use { client ->
                val report = client.upload(ob, 10u)
                expect(report.outcome is UploadOutcome.Offline) { "outcome ${report.outcome}" }
                expect(report.uploaded == 0uL) { "uploaded" }
                Verifier(roots).use { v ->
                    val r = client.syncBundle(v, null)
                    expect(r is BundleSync.Offline) { "bundle $r" }
                }
            }
            expect(ob.pendingCount() == 1uL) { "pending" }
        }
    }

    args.getOrNull(3)?.let { deviceChecks(it, scratch) }

    println("kotlin: $passed passed, $failed failed")
    if (failed > 0 || passed == 0) exitProcess(1)
}
