// The sync client's transport over URLSession: the device's trust store (including CAs
// installed by a configuration profile of the ministry's device management), App Transport
// Security and the app's pinned keys (NSPinnedDomains in Info.plist), the system proxy, and
// HTTP/2. Hand-written, not generated; the SDK keeps the protocol (ETag, batching, retries),
// this class only moves bytes.
//
//   let client = try SyncClient(baseUrl: url, deviceToken: token, timeoutSeconds: 30,
//                               transport: URLSessionTransport())
//
// The SDK calls `send` on the thread that called `syncBundle`/`upload` (a background task),
// and that thread waits here for the answer.

import Foundation

public final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    private let session: URLSession

    /// A transport over an ephemeral session (no cache, no cookies on disk). Give your own
    /// `configuration` to set a proxy or other session policy.
    public init(configuration: URLSessionConfiguration = .ephemeral) {
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(
            configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    public func send(request: HttpRequest, authorization: String) throws -> HttpResponse {
        guard let url = URL(string: request.url) else {
            throw TransportError.Offline(reason: "not a URL")
        }
        let timeout = TimeInterval(request.timeoutMillis) / 1000
        var req = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData,
                             timeoutInterval: timeout)
        req.httpMethod = request.method == .post ? "POST" : "GET"
        req.setValue(authorization, forHTTPHeaderField: "Authorization")
        for h in request.headers {
            req.setValue(h.value, forHTTPHeaderField: h.name)
        }
        if request.method == .post {
            req.httpBody = request.body
        }

        let done = DispatchSemaphore(value: 0)
        var outcome: Result<HttpResponse, TransportError> = .failure(
            .Offline(reason: "no answer"))
        let task = session.dataTask(with: req) { data, response, error in
            defer { done.signal() }
            if let error = error {
                outcome = .failure(URLSessionTransport.map(error))
                return
            }
            guard let http = response as? HTTPURLResponse else {
                outcome = .failure(.Offline(reason: "not an HTTP answer"))
                return
            }
            let body = data ?? Data()
            if UInt64(body.count) > request.maxResponseBytes {
                outcome = .failure(
                    .Offline(reason: "response larger than \(request.maxResponseBytes) bytes"))
                return
            }
            var headers: [HttpHeader] = []
            for (name, value) in http.allHeaderFields {
                if let n = name as? String, let v = value as? String {
                    headers.append(HttpHeader(name: n, value: v))
                }
            }
            outcome = .success(
                HttpResponse(status: UInt16(clamping: http.statusCode), headers: headers,
                             body: body))
        }
        task.resume()
        // The whole exchange ends by the deadline, as the SDK asks.
        if done.wait(timeout: .now() + timeout) == .timedOut {
            task.cancel()
            throw TransportError.Timeout(reason: "no complete answer in \(timeout) s")
        }
        return try outcome.get()
    }

    private static func map(_ error: Error) -> TransportError {
        let e = error as NSError
        let reason = "\(e.domain) \(e.code): \(e.localizedDescription)"
        guard e.domain == NSURLErrorDomain else { return .Offline(reason: reason) }
        switch e.code {
        case NSURLErrorTimedOut:
            return .Timeout(reason: reason)
        case NSURLErrorSecureConnectionFailed, NSURLErrorServerCertificateHasBadDate,
             NSURLErrorServerCertificateUntrusted, NSURLErrorServerCertificateHasUnknownRoot,
             NSURLErrorServerCertificateNotYetValid, NSURLErrorClientCertificateRejected,
             NSURLErrorClientCertificateRequired, NSURLErrorAppTransportSecurityRequiresSecureConnection:
            return .Tls(reason: reason)
        default:
            return .Offline(reason: reason)
        }
    }
}

/// A redirect is given back to the SDK as the answer it is (a 3xx), never followed.
private final class NoRedirects: NSObject, URLSessionTaskDelegate {
    func urlSession(_ session: URLSession, task: URLSessionTask,
                    willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest,
                    completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
