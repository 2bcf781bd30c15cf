import XCTest
@testable import DanmuSimulator

final class CompressionTests: XCTestCase {
    func testBatchesDecodeToTheSameMessages() throws {
        for (compression, protover) in [(Compression.zlib, UInt16(2)), (.brotli, 3)] {
            try checkBatch(compression, protover: protover)
        }
    }

    private func checkBatch(_ compression: Compression, protover: UInt16) throws {
        let generator = MessageGenerator(mix: .realistic)
        var plainStream = RoomStream(room: 9, cycleLength: generator.cycle.count)
        var batchStream = plainStream
        var plain: [UInt8] = [], batched: [UInt8] = [], scratch: [UInt8] = []
        generator.appendBatch(
            25, compression: .none, stream: &plainStream, monotonicNs: 1, unixMs: 2,
            scratch: &scratch, into: &plain)
        generator.appendBatch(
            25, compression: compression, stream: &batchStream, monotonicNs: 1, unixMs: 2,
            scratch: &scratch, into: &batched)
        let outer = try splitPackets(batched)
        XCTAssertEqual(outer.count, 1)
        XCTAssertEqual(outer[0].header.protover, protover)
        XCTAssertEqual(outer[0].header.operation, .message)
        XCTAssertEqual(outer[0].header.sequence, 0)
        XCTAssertEqual(try decompress(outer[0].body, protover: protover), plain)
        if compression == .zlib { XCTAssertLessThan(outer[0].body.count, plain.count / 2, "LZ77 finds the repeats") }
        XCTAssertEqual(batchStream.lastSeq, plainStream.lastSeq)
    }

    func testEachProtoverGetsItsCompression() throws {
        let configuration = Simulator.Configuration(rooms: .range(1...3), ratePerRoom: 300, batchSize: 8)
        try withSimulator(configuration) { _, port in
            for (room, protover) in [(Int64(1), 0), (2, 2), (3, 3)] {
                let client = try TestClient(port: port)
                client.sendAuth(room: room, protover: protover)
                let messages = try client.readMessages(100)
                XCTAssertGreaterThanOrEqual(messages.count, 100)
                XCTAssertTrue(messages.allSatisfy { $0.outerProtover == UInt16(protover) }, "protover \(protover)")
                let seqs = sequenceNumbers(messages, room: room)
                XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)))
            }
        }
    }

    func testForcedCompressionIgnoresProtover() throws {
        let configuration = Simulator.Configuration(
            rooms: .range(1...1), ratePerRoom: 200,
            compression: .always(.brotli))
        try withSimulator(configuration) { _, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 1, protover: 0)
            let messages = try client.readMessages(10)
            XCTAssertGreaterThanOrEqual(messages.count, 10)
            XCTAssertTrue(messages.allSatisfy { $0.outerProtover == 3 })
        }
    }
}
