/// Streaming zlib / raw deflate decompression: feed compressed bytes in chunks of any size and get the same output
/// as the one-shot `Zlib.decompress` / `Deflate.decompress`.
///
/// ```swift
/// var inflater = Inflater(format: .zlib)
/// var output: [UInt8] = []
/// for chunk in chunks { try inflater.feed(chunk, into: &output) }
/// try inflater.finish(into: &output)   // accepts an end at a sync flush; throws .truncated otherwise
/// ```
/// The inflater keeps 32 KiB of history and, between calls, only the bytes of an incomplete unit (a symbol or a
/// block header: at most a few hundred bytes). It is a value type (copy-on-write). After an error every further call
/// throws the same error.
public struct Inflater: @unchecked Sendable {  // copy-on-write: shared storage is copied before any mutation
    private var storage: InflateStreamState

    /// - Parameters:
    ///   - format: `.zlib` (RFC 1950) or `.raw` (RFC 1951).
    ///   - limit: maximum total output of the stream.
    public init(format: InflateFormat = .zlib, limit: Int = Zlib.defaultLimit) {
        storage = InflateStreamState(format: format, limit: max(0, limit))
    }

    /// True once the final block (and, for zlib, the Adler-32) has been decoded and verified.
    public var isFinished: Bool { storage.isFinished }

    /// Total decompressed bytes produced so far.
    public var totalOutput: Int { storage.produced }

    /// Decodes as much of `chunk` as possible and appends the output to `output`.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(InflateError) {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        try storage.feed(chunk, isLastInput: false, into: &output)
    }

    /// Decodes as much of `chunk` as possible and appends the output to `output`.
    public mutating func feed(_ chunk: [UInt8], into output: inout [UInt8]) throws(InflateError) {
        let result = chunk.withUnsafeBytes { buffer in
            Result { () throws(InflateError) in try feed(buffer, into: &output) }
        }
        try result.get()
    }

    /// Declares the end of the input: succeeds if the stream is complete or ended cleanly at a sync flush
    /// (with or without the Adler-32 after it), otherwise throws (`.truncated`, `.checksumMismatch`, ...).
    public mutating func finish(into output: inout [UInt8]) throws(InflateError) {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        try storage.feed(UnsafeRawBufferPointer(start: nil, count: 0), isLastInput: true, into: &output)
    }
}

/// The mutable state behind `Inflater`.
final class InflateStreamState {
    /// Back-references reach at most 32 KiB back.
    static let historySize = 32 << 10

    private var engine: InflateEngine
    private var window: InflateOutputBuffer
    /// Unconsumed input: the bytes of an incomplete unit, starting at bit `pendingStartBit` of `pending[0]`.
    private var pending: [UInt8] = []
    private var pendingStartBit = 0
    /// Stream offset of the next unconsumed byte, for error messages.
    private var consumedBytes = 0
    private(set) var produced = 0
    private var adler = ZlibAdler32()
    private let limit: Int
    private(set) var isFinished = false
    private var failure: InflateError?

    init(format: InflateFormat, limit: Int) {
        engine = InflateEngine(format: format)
        self.limit = limit
        window = InflateOutputBuffer(initialCapacity: 4096, maxCapacity: limit)
    }

    deinit { window.release() }

    func copy() -> InflateStreamState {
        let clone = InflateStreamState(format: engine.format, limit: limit)
        clone.engine = engine.copy()
        clone.window.maxCapacity = window.count + (limit - produced)
        if window.count > 0, let base = window.base {
            // Cannot fail: the clone's ceiling admits exactly this history.
            try? clone.window.reserve(window.count)
            clone.window.append(base, count: window.count)
        }
        clone.pending = pending
        clone.pendingStartBit = pendingStartBit
        clone.consumedBytes = consumedBytes
        clone.produced = produced
        clone.adler = adler
        clone.isFinished = isFinished
        clone.failure = failure
        return clone
    }

    func feed(_ chunk: UnsafeRawBufferPointer, isLastInput: Bool, into output: inout [UInt8]) throws(InflateError) {
        if let failure { throw failure }
        do {
            try process(chunk, isLastInput: isLastInput, into: &output)
        } catch {
            failure = error
            throw error
        }
    }

    private func process(_ chunk: UnsafeRawBufferPointer, isLastInput: Bool, into output: inout [UInt8])
        throws(InflateError)
    {
        if isFinished {
            if !chunk.isEmpty { throw InflateError(.trailingData, offset: consumedBytes) }
            return
        }
        var rest = chunk
        while true {
            if pending.isEmpty {
                // Common case: decode straight from the caller's chunk.
                if rest.isEmpty && !isLastInput { return }
                let (bits, outcome) = try run(rest, isLastInput: isLastInput, into: &output)
                if case .finished(let trailer) = outcome {
                    return try complete(trailer: trailer, leftover: rest.count - (bits + 7) / 8)
                }
                let used = bits >> 3
                consumedBytes += used
                pendingStartBit = bits & 7
                pending = Array(UnsafeRawBufferPointer(rebasing: rest[used...]))
                return
            }
            // A partial unit is pending: join it with the next piece of the chunk (at most 4 KiB, so the chunk is
            // not copied as a whole) and decode from the joined bytes.
            let oldCount = pending.count
            let take = min(rest.count, 4096)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            let afterTake = UnsafeRawBufferPointer(rebasing: rest[take...])
            let joined = pending
            let (bits, outcome) = try withInflateBytes(joined) { (buffer) throws(InflateError) in
                try run(buffer, isLastInput: isLastInput && afterTake.isEmpty, into: &output)
            }
            if case .finished(let trailer) = outcome {
                return try complete(trailer: trailer, leftover: joined.count - (bits + 7) / 8 + afterTake.count)
            }
            let used = bits >> 3
            consumedBytes += used
            pendingStartBit = bits & 7
            if used >= oldCount {
                // The incomplete unit lies inside the chunk: continue from the chunk itself, without copying.
                rest = UnsafeRawBufferPointer(rebasing: rest[(used - oldCount)...])
                pending = []
            } else {
                pending.removeFirst(used)
                rest = afterTake
            }
            if rest.isEmpty { return }
        }
    }

    /// Accepts the end of the stream if nothing follows it and the checksum (when present) matches.
    private func complete(trailer: UInt32?, leftover: Int) throws(InflateError) {
        guard leftover <= 0 else { throw InflateError(.trailingData, offset: consumedBytes) }
        if let trailer, trailer != adler.value { throw InflateError(.checksumMismatch, offset: consumedBytes) }
        isFinished = true
        pending = []
    }

    /// One engine run over `input`; moves new output to `output` and trims the history.
    private func run(_ input: UnsafeRawBufferPointer, isLastInput: Bool, into output: inout [UInt8])
        throws(InflateError) -> (Int, InflateEngine.Outcome)
    {
        let historyCount = window.count
        window.maxCapacity = historyCount + (limit - produced)
        let result: (consumedBits: Int, outcome: InflateEngine.Outcome)
        do {
            result = try engine.run(
                input, startBit: pendingStartBit, isLastInput: isLastInput, baseOffset: consumedBytes,
                output: &window)
        } catch {
            flushNewOutput(from: historyCount, into: &output)
            throw error
        }
        flushNewOutput(from: historyCount, into: &output)
        return (result.consumedBits, result.outcome)
    }

    private func flushNewOutput(from historyCount: Int, into output: inout [UInt8]) {
        let fresh = UnsafeRawBufferPointer(
            start: window.base.map { $0 + historyCount }, count: window.count - historyCount)
        if !fresh.isEmpty {
            output.append(contentsOf: fresh)
            adler.update(fresh)
            produced += fresh.count
        }
        // Trim only when well past the history size, so the memmove is amortised.
        if window.count > 2 * Self.historySize { window.discardPrefix(keeping: Self.historySize) }
    }
}
