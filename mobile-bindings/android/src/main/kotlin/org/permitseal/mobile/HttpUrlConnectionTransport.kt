// The sync client's transport over the platform's HttpURLConnection (HttpsURLConnection for
// https): the device's trust store (system and user CAs as the app's network security
// configuration allows, including CAs installed by device management), the app's certificate
// pins (<pin-set> in res/xml/network_security_config.xml), the system proxy, and
// cleartext only where the configuration permits it. Hand-written, not generated; the SDK
// keeps the protocol (ETag, batching, retries), this class only moves bytes.
//
//   val client = SyncClient(baseUrl, deviceToken, 30u, HttpUrlConnectionTransport())

package org.permitseal.mobile

import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.HttpURLConnection
import java.net.SocketTimeoutException
import java.net.URL
import javax.net.ssl.SSLException

class HttpUrlConnectionTransport : HttpTransport {
    override fun send(request: HttpRequest, authorization: String): HttpResponse {
        val deadline = System.nanoTime() + request.timeoutMillis.toLong() * 1_000_000
        fun left(where: String): Int {
            val ms = (deadline - System.nanoTime()) / 1_000_000
            if (ms <= 0) throw TransportException.Timeout("$where: deadline passed")
            return ms.coerceAtMost(Int.MAX_VALUE.toLong()).toInt()
        }
        var conn: HttpURLConnection? = null
        try {
            conn = URL(request.url).openConnection() as HttpURLConnection
            conn.instanceFollowRedirects = false
            conn.useCaches = false
            conn.connectTimeout = left("connecting")
            conn.readTimeout = left("connecting")
            conn.requestMethod = if (request.method == HttpMethod.POST) "POST" else "GET"
            conn.setRequestProperty("Authorization", authorization)
            for (h in request.headers) conn.setRequestProperty(h.name, h.value)
            if (request.method == HttpMethod.POST) {
                conn.doOutput = true
                conn.setFixedLengthStreamingMode(request.body.size)
                conn.outputStream.use { it.write(request.body) }
            }
            conn.readTimeout = left("waiting for the answer")
            val status = conn.responseCode
            val headers = conn.headerFields.entries
                .filter { it.key != null }
                .flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
            val stream: InputStream? = if (status >= 400) conn.errorStream else conn.inputStream
            val body = stream?.use { read(it, request.maxResponseBytes.toLong(), conn, ::left) }
                ?: ByteArray(0)
            // The body was read to its end and closed: the connection goes back to the pool.
            return HttpResponse(status.toUShort(), headers, body)
        } catch (e: Exception) {
            conn?.disconnect()
            throw when (e) {
                is TransportException -> e
                is SocketTimeoutException -> TransportException.Timeout(e.message ?: "socket timeout")
                is SSLException -> TransportException.Tls(e.toString())
                is IOException, is IllegalArgumentException, is IllegalStateException ->
                    TransportException.Offline(e.toString())
                else -> e
            }
        }
    }

    private fun read(
        stream: InputStream,
        max: Long,
        conn: HttpURLConnection,
        left: (String) -> Int,
    ): ByteArray {
        val out = ByteArrayOutputStream()
        val buf = ByteArray(16 * 1024)
        while (true) {
            conn.readTimeout = left("reading the answer")
            val n = stream.read(buf)
            if (n < 0) return out.toByteArray()
            if (out.size() + n > max) throw TransportException.Offline("response larger than $max bytes")
            out.write(buf, 0, n)
        }
    }
}
