import DanmuClient

/// Splits a captured server→client TCP byte stream into frames and remembers where each one started, so
/// that every error can name a byte offset. Framing is the library's `FrameDecoder` (the same code the
/// collector runs); this type only adds offsets and the end-of-capture checks.
struct CaptureReader {
    /// A frame and the offset of its first header byte in the capture.
    struct PositionedFrame {
        var offset: Int
        var frame: Frame
    }

    /// Why the capture could not be read to its end.
    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "byte offset \(offset): \(reason)" }
    }

    /// The frames of `bytes`, plus a failure if the stream is damaged or cut (the frames before it are
    /// still returned so that everything decodable is shown), plus the count of heartbeat echo bytes that
    /// were skipped (the server writes them outside the declared length, docs/protocol.md §8).
    static func read(_ bytes: [UInt8]) -> (frames: [PositionedFrame], failure: Failure?, echoBytes: Int) {
        var decoder = FrameDecoder(maxPacketLength: 16 << 20)
        var frames: [Frame] = []
        var thrown: ProtocolError? = nil
        bytes.withUnsafeBytes { raw in
            do throws(ProtocolError) {
                try decoder.feed(raw) { frames.append($0) }
            } catch {
                thrown = error
            }
        }
        // Recover each frame's offset: frames are contiguous except after an op 3 reply, where the decoder
        // skipped echo bytes up to the first plausible header — the first place where this frame's exact
        // header bytes occur.
        var positioned: [PositionedFrame] = []
        var position = 0
        var afterHeartbeatReply = false
        for frame in frames {
            if afterHeartbeatReply {
                position = find(frame.header.bytes, in: bytes, from: position) ?? position
            }
            positioned.append(PositionedFrame(offset: position, frame: frame))
            position += frame.wireLength
            afterHeartbeatReply = frame.header.operation == .heartbeatReply
        }
        let echoBytes = decoder.echoBytesSkipped
        if let thrown {
            return (positioned, Failure(offset: position, reason: thrown.description), echoBytes)
        }
        let buffered = decoder.bufferedByteCount
        guard buffered > 0 else { return (positioned, nil, echoBytes) }
        let start = bytes.count - buffered
        if afterHeartbeatReply && !startsWithPlausibleHeader(bytes, at: start) {
            // Echo bytes after the last heartbeat reply (the bac 2022-07 capture ends like this).
            return (positioned, nil, echoBytes + buffered)
        }
        let header =
            buffered >= PacketHeader.size
            ? PacketHeader(parsing: Array(bytes[start..<start + PacketHeader.size])) : nil
        let reason =
            header.map { "truncated packet: header declares \($0.length) bytes, only \(buffered) present" }
            ?? "truncated packet: \(buffered) bytes, less than a 16-byte header"
        return (positioned, Failure(offset: start, reason: reason), echoBytes)
    }

    private static func startsWithPlausibleHeader(_ bytes: [UInt8], at offset: Int) -> Bool {
        guard bytes.count - offset >= PacketHeader.size,
            let header = PacketHeader(parsing: Array(bytes[offset..<offset + PacketHeader.size]))
        else { return false }
        return header.isPlausible(maxLength: 16 << 20)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}
