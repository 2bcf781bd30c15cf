/// Streaming splitter of a TCP byte stream (or a WebSocket message) into packets.
///
/// - Accepts input split anywhere, down to one byte at a time.
/// - Holds only the partial tail between calls; an idle connection whose last packet was complete
///   holds no buffer at all (the array is released, not just emptied).
/// - After an op 3 heartbeat reply it tolerates the echo bytes the server writes outside the declared
///   length (docs/protocol.md §8: "pack_len不包括客户端发的心跳包内容"): it skips bytes until 16 of them look
///   like a plausible header (`PacketHeader.isPlausible`), at most `resyncBudget` bytes.
/// - Rejects length < 16, header length ≠ 16 and lengths over `maxPacketLength` with a `ProtocolError`.
/// - Recognises an HTTP status line where a header should be (`HTTP/1.1 403 Forbidden`, what a refusing server
///   or proxy writes on a TCP room socket) and throws `.httpResponse` with that line once it is complete (or
///   `httpLineLimit` bytes arrived), instead of reporting the bytes "HTTP" as an absurd packet length.
///   After an error the decoder is poisoned: the caller closes that connection (and makes a new decoder).
///
/// Not thread-safe; lives with its connection on the IO thread.
public struct FrameDecoder {
    /// Largest accepted packet (header + body). Default 1 MiB (docs/protocol.md §10 recommends accepting ≥ 1 MiB).
    public let maxPacketLength: Int
    /// How many bytes may be skipped after a heartbeat reply while looking for the next header.
    public let resyncBudget: Int

    /// How much of an HTTP status line is awaited for its end of line before it is reported as it is.
    static let httpLineLimit = 256

    private var pending: [UInt8] = []
    private var resyncing = false
    private var skipped = 0
    private var failure: ProtocolError?

    /// Bytes skipped so far as heartbeat-echo garbage (a counter for statistics).
    public private(set) var echoBytesSkipped = 0

    public init(maxPacketLength: Int = 1 << 20, resyncBudget: Int = 4096) {
        self.maxPacketLength = max(maxPacketLength, PacketHeader.size)
        self.resyncBudget = resyncBudget
    }

    /// Bytes currently held (the partial tail).
    public var bufferedByteCount: Int { pending.count }

    /// Feeds bytes; returns the complete frames they finish, in order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(ProtocolError) -> [Frame] {
        var frames: [Frame] = []
        try feed(bytes) { frames.append($0) }
        return frames
    }

    /// Feeds bytes from an array.
    public mutating func feed(_ bytes: [UInt8]) throws(ProtocolError) -> [Frame] {
        var frames: [Frame] = []
        var thrown: ProtocolError?
        bytes.withUnsafeBytes { raw in
            do throws(ProtocolError) { try feed(raw) { frames.append($0) } } catch { thrown = error }
        }
        if let thrown { throw thrown }
        return frames
    }

    /// Feeds bytes and hands each complete frame to `body` as soon as it is cut (no intermediate array).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Frame) -> Void) throws(ProtocolError) {
        try feedPackets(bytes) { header, packet in
            emit(Frame(header: header, body: Array(UnsafeRawBufferPointer(rebasing: packet[PacketHeader.size...]))))
        }
    }

    /// Feeds bytes and hands each complete packet to `emit` in place: its header and its whole wire bytes (header
    /// and body, `header.length` of them), valid only during the call. Nothing is copied here but a partial tail;
    /// the caller copies what must outlive the read (`FrameBatch`).
    mutating func feedPackets(_ bytes: UnsafeRawBufferPointer, _ emit: (PacketHeader, UnsafeRawBufferPointer) -> Void)
        throws(ProtocolError)
    {
        if let failure { throw failure }
        do throws(ProtocolError) {
            if pending.isEmpty {
                // Fast path: parse straight from the caller's buffer; copy only the tail.
                let used = try consume(bytes, emit)
                if used < bytes.count { pending = Array(bytes[used...]) }
            } else {
                pending.append(contentsOf: bytes)
                // withUnsafeBytes only rethrows untyped errors, so carry the typed one out by hand.
                var result: Result<Int, ProtocolError> = .success(0)
                let buffer = pending
                pending = []
                buffer.withUnsafeBytes { raw in
                    do throws(ProtocolError) { result = .success(try consume(raw, emit)) } catch {
                        result = .failure(error)
                    }
                }
                pending = buffer
                let used = try result.get()
                if used == pending.count {
                    pending = []  // release the storage: idle connections hold nothing
                } else if used > 0 {
                    pending.removeFirst(used)
                }
            }
        } catch {
            failure = error
            pending = []
            throw error
        }
    }

    /// Cuts as many frames as possible from `buffer`; returns how many bytes were consumed.
    private mutating func consume(
        _ buffer: UnsafeRawBufferPointer, _ emit: (PacketHeader, UnsafeRawBufferPointer) -> Void
    ) throws(ProtocolError) -> Int {
        var offset = 0
        while buffer.count - offset >= PacketHeader.size {
            let window = UnsafeRawBufferPointer(rebasing: buffer[offset...])
            let header = PacketHeader(parsing: window)!
            if resyncing {
                if header.isPlausible(maxLength: maxPacketLength) {
                    resyncing = false
                } else {
                    offset += 1
                    skipped += 1
                    echoBytesSkipped += 1
                    if skipped > resyncBudget { throw .lostSync(skipped: skipped) }
                    continue
                }
            }
            if !resyncing, Self.startsWithHTTP(window) {
                guard let line = Self.statusLine(window) else { break }  // wait for the rest of the line
                throw .httpResponse(statusLine: line)
            }
            try header.validate(maxLength: maxPacketLength)
            let length = Int(header.length)
            guard window.count >= length else { break }
            offset += length
            if header.operation == .heartbeatReply {
                resyncing = true
                skipped = 0
            }
            emit(header, UnsafeRawBufferPointer(rebasing: window[..<length]))
        }
        return offset
    }

    /// "HTTP/" at the start of `window`: no valid header begins so (its length would be 1.2 GB).
    private static func startsWithHTTP(_ window: UnsafeRawBufferPointer) -> Bool {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        return window.count >= prefix.count && prefix.indices.allSatisfy { window[$0] == prefix[$0] }
    }

    /// The status line without its line end, as printable ASCII; nil while neither its end of line nor
    /// `httpLineLimit` bytes have arrived.
    private static func statusLine(_ window: UnsafeRawBufferPointer) -> String? {
        let scanned = min(window.count, httpLineLimit)
        var end = scanned
        if let newline = (0..<scanned).first(where: { window[$0] == UInt8(ascii: "\n") }) {
            end = newline
        } else if window.count < httpLineLimit {
            return nil
        }
        let printable = (0..<end).map { window[$0] }.filter { $0 >= 0x20 && $0 < 0x7F }
        return String(decoding: printable, as: UTF8.self)
    }
}
