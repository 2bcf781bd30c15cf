// libFuzzer target for the WebSocket parsers of untrusted bytes: WebSocketFrameDecoder (client and server role),
// WebSocketHandshakeParser and the server's WebSocketUpgradeRequestParser. Built by `Fuzz/build.sh websocket`, run
// by Fuzz/smoke.sh.
//
// Input layout: byte 0 = configuration (low nibble: how many chunk-size bytes follow; bit 4: server role;
// bit 5: small limits (64-byte frames, 200-byte messages); bit 6: parse as an HTTP response head first),
// then the chunk sizes, then the stream.
//
// Invariants (a violation traps):
// - one-piece and chunked feeding give the same events and the same error (or none);
// - every message respects the limits, every control payload is ≤ 125 bytes, close codes are valid on the wire;
// - re-encoding the events (WebSocketFrameEncoder, masked iff the role expects masking) decodes to the same events;
// - the handshake parsers (response and request) give the same verdict and consumed count for one-piece and
//   chunked input.
import DanmuClient
import Glibc

private func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fputs("fuzz invariant failed: \(message())\n", stderr)
        abort()
    }
}

private struct FixedRandom: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return state
    }
}

private func decode(
    _ stream: [UInt8], role: WebSocketFrameDecoder.Role, limits: WebSocketFrameDecoder.Limits, chunks: [Int]
) -> ([WebSocketFrameDecoder.Event], WebSocketError?) {
    var decoder = WebSocketFrameDecoder(role: role, limits: limits)
    var events: [WebSocketFrameDecoder.Event] = []
    var offset = 0
    var turn = 0
    while offset < stream.count || (turn == 0 && stream.isEmpty) {
        let size = chunks.isEmpty ? stream.count : min(chunks[turn % chunks.count], stream.count - offset)
        turn += 1
        let result = stream[offset..<offset + size].withUnsafeBytes { raw in
            Result { () throws(WebSocketError) in try decoder.feed(raw, into: &events) }
        }
        if case .failure(let error) = result { return (events, error) }
        offset += size
        if stream.isEmpty { break }
    }
    return (events, nil)
}

private func handshake(_ stream: [UInt8], chunks: [Int]) -> String {
    var parser = WebSocketHandshakeParser(expectedAccept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", maxHeaderBytes: 1024)
    var offset = 0
    var turn = 0
    while offset < stream.count {
        let size = chunks.isEmpty ? stream.count : min(chunks[turn % chunks.count], stream.count - offset)
        turn += 1
        let result = stream[offset..<offset + size].withUnsafeBytes { raw in
            Result { () throws(WebSocketError) in try parser.feed(raw) }
        }
        switch result {
        case .success(.done(let consumed)): return "done \(offset + consumed)"
        case .success(.needMore): break
        case .failure(let error): return "error \(error)"
        }
        offset += size
    }
    return "needMore"
}

/// The server side's parse of an upgrade request (the simulator's ws/wss endpoints).
private func upgradeRequest(_ stream: [UInt8], chunks: [Int]) -> String {
    var parser = WebSocketUpgradeRequestParser(maxHeaderBytes: 1024)
    var offset = 0
    var turn = 0
    while offset < stream.count {
        let size = chunks.isEmpty ? stream.count : min(chunks[turn % chunks.count], stream.count - offset)
        turn += 1
        let result = stream[offset..<offset + size].withUnsafeBytes { raw in
            Result { () throws(WebSocketError) in try parser.feed(raw) }
        }
        switch result {
        case .success(.done(let request, let consumed)):
            return "done \(offset + consumed) \(request.path) \(request.key) \(request.headers.count)"
        case .success(.needMore): break
        case .failure(let error): return "error \(error)"
        }
        offset += size
    }
    return "needMore"
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let config = input.first ?? 0
    let count = min(Int(config & 0x0F), max(input.count - 1, 0))
    let chunks = (0..<count).map { max(Int(input[1 + $0]), 1) }
    let stream = Array(input.dropFirst(1 + count))
    let role: WebSocketFrameDecoder.Role = config & 0x10 != 0 ? .server : .client
    let limits = config & 0x20 != 0 ? WebSocketFrameDecoder.Limits(maxFrameSize: 64, maxMessageSize: 200) : .init()

    if config & 0x40 != 0 {
        let whole = handshake(stream, chunks: [])
        let split = handshake(stream, chunks: chunks)
        check(whole == split, "handshake verdict differs: \(whole) vs \(split)")
        let request = upgradeRequest(stream, chunks: [])
        let splitRequest = upgradeRequest(stream, chunks: chunks)
        check(request == splitRequest, "upgrade request verdict differs: \(request) vs \(splitRequest)")
        return 0
    }

    let (events, error) = decode(stream, role: role, limits: limits, chunks: [])
    let (chunkedEvents, chunkedError) = decode(stream, role: role, limits: limits, chunks: chunks)
    check(events == chunkedEvents, "events differ between one-piece and chunked feeding")
    check(error == chunkedError, "errors differ: \(String(describing: error)) vs \(String(describing: chunkedError))")

    var encoder = WebSocketFrameEncoder(masks: role == .server, random: FixedRandom())
    var reencoded: [UInt8] = []
    for event in events {
        switch event {
        case .message(let opcode, let payload):
            check(payload.count <= limits.maxMessageSize, "message over the limit")
            check(opcode == .text || opcode == .binary, "message opcode \(opcode)")
            // Split into frames within the frame limit, to exercise continuation on the way back.
            let step = max(1, min(limits.maxFrameSize, 100))
            var start = 0
            repeat {
                let end = min(payload.count, start + step)
                encoder.encode(
                    start == 0 ? opcode : .continuation, payload: payload[start..<end], fin: end == payload.count,
                    into: &reencoded)
                start = end
            } while start < payload.count
        case .ping(let payload):
            check(payload.count <= 125, "ping too long")
            encoder.encode(.ping, payload: payload, into: &reencoded)
        case .pong(let payload):
            check(payload.count <= 125, "pong too long")
            encoder.encode(.pong, payload: payload, into: &reencoded)
        case .close(let close):
            if let code = close.code { check(code.isValidOnWire, "invalid close code \(code) accepted") }
            encoder.encodeClose(close, into: &reencoded)
        }
    }
    let (again, againError) = decode(reencoded, role: role, limits: limits, chunks: [])
    check(againError == nil, "re-encoded events fail: \(String(describing: againError))")
    check(again == events, "re-encoded events decode differently")
    return 0
}
