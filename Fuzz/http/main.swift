// libFuzzer target for HTTPRequestParser, the parser of every byte an HTTP client sends to the realtime server.
// Built by `Fuzz/build.sh http` (single module: the parser's files from extra-sources.txt), run by Fuzz/smoke.sh.
//
// Input layout: byte 0 = configuration (low nibble: how many chunk-size bytes follow; bit 4: small limits —
// 64-byte request line, 4 headers, 128 header bytes, 16-byte bodies), then the chunk sizes, then the stream.
//
// Invariants (a violation traps):
// - feeding the stream in one piece and in chunks yields the same requests and the same error status (or none);
// - every request respects the limits: header count, body size; the path starts with '/'; the method is a token;
//   header names are lower-case;
// - an error status is one the server documents (400, 411, 413, 414, 431, 501, 505).
import Glibc

private func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fputs("fuzz invariant failed: \(message())\n", stderr)
        abort()
    }
}

/// A request as one comparable string.
private func describe(_ request: HTTPRequest) -> String {
    var text = "\(request.method) \(request.path) 1.\(request.minorVersion) keepAlive=\(request.keepAlive)\n"
    for (name, value) in request.query { text += "q \(name)=\(value)\n" }
    for (name, value) in request.headers { text += "h \(name): \(value)\n" }
    text += "body \(request.body)\n"
    return text
}

private func parse(_ stream: [UInt8], limits: HTTPServerLimits, chunks: [Int]) -> ([String], Int?) {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [String] = []
    var offset = 0
    var turn = 0
    repeat {
        let size = chunks.isEmpty ? stream.count : min(max(1, chunks[turn % chunks.count]), stream.count - offset)
        turn += 1
        parser.feed(Array(stream[offset..<offset + size]))
        offset += size
        while true {
            do throws(HTTPRequestError) {
                guard let request = try parser.nextRequest() else { break }
                check(request.path.hasPrefix("/"), "path \(request.path) does not start with /")
                check(!request.method.isEmpty, "empty method")
                check(request.body.count <= limits.maxBodyBytes, "body of \(request.body.count) bytes over the limit")
                check(request.headers.count <= limits.maxHeaderCount, "\(request.headers.count) headers")
                check(request.headers.allSatisfy { $0.name == $0.name.lowercased() }, "header name not lower-cased")
                requests.append(describe(request))
            } catch {
                check(
                    [400, 411, 413, 414, 431, 501, 505].contains(error.status),
                    "undocumented status \(error.status)")
                return (requests, error.status)
            }
        }
    } while offset < stream.count
    return (requests, nil)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let configuration = bytes.first else { return 0 }
    let chunkCount = Int(configuration & 0x0F)
    guard bytes.count > chunkCount else { return 0 }
    let chunks = bytes[1..<(1 + chunkCount)].map { Int($0) }
    let stream = Array(bytes[(1 + chunkCount)...])
    var limits = HTTPServerLimits()
    if configuration & 0x10 != 0 {
        limits.maxRequestLineBytes = 64
        limits.maxHeaderCount = 4
        limits.maxHeaderBytes = 128
        limits.maxBodyBytes = 16
    }
    let whole = parse(stream, limits: limits, chunks: [])
    let pieces = parse(stream, limits: limits, chunks: chunks.isEmpty ? [1] : chunks)
    check(whole.0 == pieces.0, "requests differ between one-piece and chunked feeding:\n\(whole.0)\nvs\n\(pieces.0)")
    check(whole.1 == pieces.1, "errors differ: \(String(describing: whole.1)) vs \(String(describing: pieces.1))")
    return 0
}
