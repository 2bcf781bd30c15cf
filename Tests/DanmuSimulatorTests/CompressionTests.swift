import XCTest
@testable import DanmuSimulator

final class CompressionTests: XCTestCase {
    func testBrotliBatchesDecodeToTheSameMessages() throws {
        let generator = MessageGenerator(mix: .realistic)
        var plainStream = RoomStream(room: 9, cycleLength: generator.cycle.count)
        var batchStream = plainStream
        var plain: [UInt8] = [], batched: [UInt8] = [], scratch: [UInt8] = []
        generator.appendBatch(25, compression: .none, stream: &plainStream, monotonicNs: 1, unixMs: 2,
                              scratch: &scratch, into: &plain)
        generator.appendBatch(25, compression: .brotli, stream: &batchStream, monotonicNs: 1, unixMs: 2,
                              scratch: &scratch, into: &batched)
        let outer = try splitPackets(batched)
        XCTAssertEqual(outer.count, 1)
        XCTAssertEqual(outer[0].header.protover, 3)
        XCTAssertEqual(outer[0].header.operation, 5)
        XCTAssertEqual(outer[0].header.sequence, 0)
        XCTAssertEqual(try decompress(outer[0].body, protover: 3), plain)
        XCTAssertEqual(batchStream.lastSeq, plainStream.lastSeq)
    }

    func testBrotliClientReceivesVer3Batches() throws {
        let configuration = Simulator.Configuration(rooms: .range(1...2), ratePerRoom: 300, batchSize: 8)
        try withSimulator(configuration) { _, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 1, protover: 3)
            let messages = try client.readMessages(100)
            XCTAssertGreaterThanOrEqual(messages.count, 100)
            XCTAssertTrue(messages.allSatisfy { $0.outerProtover == 3 })
            let seqs = sequenceNumbers(messages, room: 1)
            XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)))
        }
    }

    func testForcedCompressionIgnoresProtover() throws {
        let configuration = Simulator.Configuration(rooms: .range(1...1), ratePerRoom: 200,
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
