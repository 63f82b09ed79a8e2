// The sync client through the SDK's Android transport (HttpUrlConnectionTransport, here on
// the JVM) against the real server, which tests/foreign_sync.rs starts and checks.
//
// Usage: SyncTest <spec file>   (key=value lines; mode=scenario or mode=child)

import java.io.File
import kotlin.system.exitProcess
import org.permitseal.mobile.*

private fun scan(qr: String, at: Long) =
    ScanReport(qr, at, Place.Locode("KEMBA"), VerdictKind.VALID, "kt-device", "officer-kt")

fun main(args: Array<String>) {
    val spec = File(args[0]).readLines().filter { '=' in it }
        .associate { it.substringBefore('=') to it.substringAfter('=') }
    fun s(key: String) = spec[key] ?: throw IllegalArgumentException("spec has no $key")
    val transport = HttpUrlConnectionTransport()

    if (s("mode") == "child") {
        // Uploads one item per request until killed.
        Outbox.open(s("dir")).use { ob ->
            SyncClient(s("url"), s("token"), 10u, transport).use { client ->
                println("STARTED ${ob.pendingCount()}")
                println("DONE ${client.upload(ob, 1u)}")
            }
        }
        return
    }

    val now = s("now").toLong()
    val qr = s("qr")
    val verifier = Verifier(listOf(unhex(s("root_key"))))
    val client = SyncClient(s("url"), s("token"), 10u, transport)
    val outbox = Outbox.open(s("dir"))
    var etag: String? = null

    check("bundle fetched, verified and installed, then up to date by its ETag") {
        val r = client.syncBundle(verifier, null)
        expect(r is BundleSync.Updated && r.load == BundleLoad.INSTALLED) { "first: $r" }
        etag = (r as BundleSync.Updated).etag
        expect(etag != null) { "no ETag" }
        val v = verifier.verify(qr, Language.EN)
        expect(v.verdict == VerdictKind.VALID) { "verdict ${v.verdict} ${v.reasons.map { it.code }}" }
        val again = client.syncBundle(verifier, etag)
        expect(again is BundleSync.UpToDate) { "second: $again" }
    }

    check("upload in batches of two; what the server would refuse is refused when recorded") {
        val ids = (0 until 5).map { outbox.enqueueScan(scan(qr, now - 600 + it)) }
        outbox.enqueueEndorsement(ExportEndorsement(qr, listOf(EndorsedLine("A", "12.5")),
            "KEMBA", "MSKU7654321", now - 60, "kt-device", "officer-kt"))
        val refused = try {
            outbox.enqueueScan(scan(qr, now + 3 * 86_400)); null
        } catch (e: SdkFailure.InvalidInput) { e }
        expect(refused != null) { "a scan three days ahead was queued" }
        val report = client.upload(outbox, 2u)
        expect(report.outcome is UploadOutcome.Done) { "outcome ${report.outcome}" }
        expect(report.uploaded == 6uL && report.rejected == 0uL) { "report $report" }
        expect(outbox.pendingCount() == 0uL && outbox.stats().rejected == 0uL) { "stats ${outbox.stats()}" }
        ids.forEach { println("STORED $it") }
    }

    check("the endorsement is in the next bundle: the permit is used at export") {
        val r = client.syncBundle(verifier, etag)
        expect(r is BundleSync.Updated) { "sync $r" }
        val v = verifier.verifyAt(qr, now, CheckpointKind.EXPORT, Language.EN)
        expect(v.reasons.any { it.code == "USED" }) { "reasons ${v.reasons.map { it.code }}" }
    }

    check("a token the server does not know: refused, nothing leaves the queue") {
        val id = outbox.enqueueScan(scan(qr, now - 100))
        SyncClient(s("url"), s("stranger"), 10u, transport).use { stranger ->
            val report = stranger.upload(outbox, 10u)
            expect(report.outcome is UploadOutcome.AuthFailed) { "outcome ${report.outcome}" }
        }
        expect(outbox.pendingCount() == 1uL) { "pending" }
        val report = client.upload(outbox, 10u)
        expect(report.outcome is UploadOutcome.Done && report.uploaded == 1uL) { "report $report" }
        println("STORED $id")
    }

    check("nothing listens: offline") {
        SyncClient(s("closed_url"), s("token"), 2u, transport).use { c ->
            val r = c.syncBundle(verifier, null)
            expect(r is BundleSync.Offline) { "sync $r" }
        }
    }

    check("a server that never answers: offline by the timeout") {
        SyncClient(s("silent_url"), s("token"), 1u, transport).use { c ->
            val start = System.nanoTime()
            val r = c.syncBundle(verifier, null)
            val took = (System.nanoTime() - start) / 1_000_000
            expect(r is BundleSync.Offline && r.reason.contains("timed out")) { "sync $r" }
            expect(took < 3000) { "took $took ms" }
        }
    }

    check("a certificate the platform does not trust: a TLS failure, never data") {
        SyncClient(s("untrusted_url"), s("token"), 5u, transport).use { c ->
            val r = c.syncBundle(verifier, null)
            expect(r is BundleSync.Offline && r.reason.startsWith("TLS failure")) { "sync $r" }
        }
    }

    check("a transport that throws something unexpected: offline, nothing lost") {
        val broken = object : HttpTransport {
            override fun send(request: HttpRequest, authorization: String): HttpResponse =
                throw IllegalStateException("broken transport")
        }
        outbox.enqueueScan(scan(qr, now - 50))
        SyncClient(s("url"), s("token"), 2u, broken).use { c ->
            val report = c.upload(outbox, 10u)
            expect(report.outcome is UploadOutcome.Offline) { "outcome ${report.outcome}" }
        }
        expect(outbox.pendingCount() == 1uL) { "pending" }
    }

    check("device key: enrolled through a Kotlin signer, every item signed, unsigned refused") {
        val signer = SoftwareDeviceSigner.generate()
        val keyId = deviceKeyId(signer.publicKey())
        SyncClient(s("url"), s("device_token"), 10u, transport).use { device ->
            repeat(2) {
                val r = device.enrolDevice(signer)
                expect(r is Enrolment.Enrolled && r.deviceKeyId == keyId) { "enrol $r" }
            }
            val other = device.enrolDevice(SoftwareDeviceSigner.generate())
            expect(other is Enrolment.Conflict) { "another key: $other" }
            Outbox.open(s("device_dir")).use { ob -> ob.enqueueScan(scan(qr, now - 500)) }
            Outbox.openSigned(s("device_dir"), signer).use { ob ->
                val ids = (0 until 3).map { ob.enqueueScan(scan(qr, now - 400 + it)) } +
                    ob.enqueueEndorsement(ExportEndorsement(qr, listOf(EndorsedLine("A", "1")),
                        "KEMBA", null, now - 30, "kt-device", "officer-kt"))
                val report = device.upload(ob, 10u)
                expect(report.outcome is UploadOutcome.Done) { "outcome ${report.outcome}" }
                expect(report.uploaded == 4uL && report.rejected == 1uL) { "report $report" }
                println("DEVICE_KEY $keyId")
                ids.forEach { println("SIGNED $it") }
            }
        }
    }

    outbox.close()
    client.close()
    verifier.close()
    println("sync: $passed passed, $failed failed")
    if (failed > 0 || passed == 0) exitProcess(1)
}
