// libFuzzer target for the TCP stream decoding of DanmuClient: FrameDecoder → MessageDecoder → writeJSONLine /
// EventText. Built by `Fuzz/build.sh frames` (separate modules, see Fuzz/frames/modules.txt), run with
// `SWIFT_BACKTRACE=enable=no Fuzz/out/frames Fuzz/frames/seeds -max_total_time=600 -rss_limit_mb=2048 -timeout=10`
// (without SWIFT_BACKTRACE=enable=no a trap can hang in the Swift runtime's backtracer instead of reaching libFuzzer).
//
// Input layout (see `FuzzInput`): byte 0 = configuration (low nibble: how many chunk-size bytes follow; bits 4–5:
// the frame decoder's length cap; bit 6: a tiny resync budget), then the chunk sizes, then the stream itself.
//
// Invariants checked on every input (a violation traps):
// - feeding the stream in one piece and in the input-chosen chunks (cycled, including empty feeds) gives the same
//   frames, the same error (or none), the same buffered tail, echo-skip counter, events and decoder statistics;
// - every frame re-encodes (Packet.encode) to a stream that decodes to the same frames;
// - every event's JSON line is one line of valid JSON whose cmd/kind/room/received_at match the event;
// - every event's text line holds no control characters (the terminal-safety promise of EventText).
import DanmuClient
import DanmuCodecs
import Glibc

private func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fputs("fuzz invariant failed: \(message())\n", stderr)
        abort()
    }
}

/// The decoding parameters and chunking read from the front of the input.
private struct FuzzInput {
    var maxPacketLength: Int
    var resyncBudget: Int
    /// Chunk sizes, used in a cycle; 0 means an empty feed.
    var chunkSizes: [Int]
    var stream: UnsafeRawBufferPointer

    init(_ data: UnsafeRawBufferPointer) {
        let config = data.first ?? 0
        let caps = [1 << 20, 64, 4096, 65_536]
        maxPacketLength = caps[Int(config >> 4) & 3]
        resyncBudget = config & 0x40 != 0 ? 8 : 4096
        let count = min(Int(config & 0x0F), max(data.count - 1, 0))
        // Sizes 0…239 are byte counts; 240…255 are larger jumps (k × 1024) so a chunk can hold many packets.
        chunkSizes = (0..<count).map { i in
            let b = Int(data[1 + i])
            return b < 240 ? b : (b - 239) * 1024
        }
        if chunkSizes.allSatisfy({ $0 == 0 }) { chunkSizes.append(1) }  // no sizes → one byte at a time
        stream = UnsafeRawBufferPointer(rebasing: data[min(1 + count, data.count)...])
    }
}

/// What decoding a stream produced, compared between the two feedings.
private struct Outcome: Equatable {
    var frames: [Frame] = []
    var error: ProtocolError?
    var buffered = 0
    var echoSkipped = 0
    var events: [DanmuEvent] = []
    var frameErrors: [ProtocolError?] = []
    var statistics = MessageDecoder.Statistics()
}

private func decode(_ input: FuzzInput, chunked: Bool) -> Outcome {
    var outcome = Outcome()
    var decoder = FrameDecoder(maxPacketLength: input.maxPacketLength, resyncBudget: input.resyncBudget)
    var messages = MessageDecoder()
    let stream = input.stream
    var offset = 0
    var turn = 0
    do throws(ProtocolError) {
        repeat {
            let size = chunked ? input.chunkSizes[turn % input.chunkSizes.count] : stream.count
            turn += 1
            let end = min(offset + size, stream.count)
            let chunk = UnsafeRawBufferPointer(rebasing: stream[offset..<end])
            offset = end
            try decoder.feed(chunk) { frame in
                outcome.frames.append(frame)
                // A frame that fails still contributes the events decoded before the failure; go on with the next
                // frame anyway (a client would reconnect) so the rest of the input is exercised too.
                do throws(ProtocolError) {
                    try messages.decode(frame, into: &outcome.events)
                    outcome.frameErrors.append(nil)
                } catch {
                    outcome.frameErrors.append(error)
                }
            }
        } while offset < stream.count
        outcome.buffered = decoder.bufferedByteCount
    } catch {
        outcome.error = error
        _ = error.description
        // A poisoned decoder keeps failing with the same error and holds nothing.
        do throws(ProtocolError) {
            _ = try decoder.feed([0, 0, 0, 16])
            check(false, "a failed FrameDecoder accepted more bytes")
        } catch let again {
            check(again == error, "a failed FrameDecoder changed its error: \(error) → \(again)")
        }
        check(decoder.bufferedByteCount == 0, "a failed FrameDecoder still buffers bytes")
    }
    outcome.echoSkipped = decoder.echoBytesSkipped
    outcome.statistics = messages.statistics
    return outcome
}

/// Re-encoding the frames must give a stream that splits into the same frames (echo bytes are gone, which is fine:
/// every frame after a heartbeat reply was plausible, so resynchronisation finds it at once).
private func checkReencoding(_ frames: [Frame], _ input: FuzzInput) {
    var stream: [UInt8] = []
    for frame in frames {
        let packet = Packet.encode(
            frame.header.operation, protover: frame.header.protover,
            sequence: frame.header.sequence, body: frame.body)
        check(packet.count == frame.wireLength, "re-encoded length \(packet.count) ≠ \(frame.wireLength)")
        check(PacketHeader(parsing: packet) == frame.header, "re-encoded header differs")
        stream += packet
    }
    var decoder = FrameDecoder(maxPacketLength: input.maxPacketLength, resyncBudget: input.resyncBudget)
    do throws(ProtocolError) {
        let again = try decoder.feed(stream)
        check(again == frames, "re-encoded stream gave \(again.count) frames, not \(frames.count)")
        check(decoder.bufferedByteCount == 0, "re-encoded stream left a tail")
    } catch {
        check(false, "re-encoded stream failed: \(error)")
    }
}

private func checkOutput(_ event: DanmuEvent, index: Int) {
    let room = Int64(index) * 7919 - 3
    let receivedAt = Int64(index) &* 1_000_003_141
    var writer = JSONWriter()
    writeJSONLine(room: room, receivedAt: receivedAt, event: event, into: &writer)
    let line = writer.bytes
    check(line.last == UInt8(ascii: "\n"), "JSON line does not end with a newline")
    check(
        line.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") },
        "JSON line holds a raw line break")
    do throws(JSONError) {
        let document = try JSONDocument(parsing: Array(line.dropLast()), maxDepth: 1024)
        let root = document.root
        check(root.kind == .object, "JSON line is not an object")
        check(root["room"]?.int64 == room, "room field")
        check(root["received_at"]?.int64 == receivedAt / 1_000_000, "received_at field")
        check(root["cmd"]?.string == event.cmd, "cmd field \(String(describing: root["cmd"]?.string)) ≠ \(event.cmd)")
        check(root["kind"]?.string == event.kind.rawValue, "kind field")
        if case .unknown(_, let raw) = event {
            // The writer may drop whitespace (line breaks) from `raw`; the value must stay the same.
            let original = try JSONDocument(parsing: raw, maxDepth: 1024).root.toValue()
            check(root["raw"]?.toValue() == original, "raw field is not the original message")
        }
    } catch {
        check(false, "JSON line does not parse (\(error)): \(String(decoding: line, as: UTF8.self))")
    }
    // Also a second line into the same writer: JSON Lines must not get a separating comma.
    let first = writer.bytes.count
    writeJSONLine(room: room, receivedAt: receivedAt, event: event, into: &writer)
    check(Array(writer.bytes[first...]) == line, "second JSON line into one writer differs")

    let text = EventText.line(room: room, event: event)
    check(
        !text.unicodeScalars.contains { s in
            s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
        }, "text line holds a control character: \(text.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())")
}

/// `FRAMES_FUZZ_VERBOSE=1 Fuzz/out/frames FILE` prints what each input decoded to (for looking at a regression).
private let verbose = getenv("FRAMES_FUZZ_VERBOSE") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func framesFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let whole = decode(input, chunked: false)
    let chunked = decode(input, chunked: true)
    if whole != chunked {
        fputs(
            "whole: \(whole.frames.count) frames, error \(String(describing: whole.error)), "
                + "\(whole.events.count) events, buffered \(whole.buffered), skipped \(whole.echoSkipped)\n", stderr)
        fputs(
            "chunked: \(chunked.frames.count) frames, error \(String(describing: chunked.error)), "
                + "\(chunked.events.count) events, buffered \(chunked.buffered), skipped \(chunked.echoSkipped)\n",
            stderr)
        check(false, "chunked feeding (sizes \(input.chunkSizes)) differs from feeding the whole stream")
    }
    if verbose {
        fputs(
            "\(whole.frames.count) frames, \(whole.events.count) events, error \(String(describing: whole.error)), "
                + "frame errors \(whole.frameErrors.compactMap { $0 }.map(String.init(describing:))), "
                + "kinds \(whole.events.map(\.kind.rawValue))\n", stderr)
    }
    checkReencoding(whole.frames, input)
    for (index, event) in whole.events.enumerated() { checkOutput(event, index: index) }
    return 0
}
