import XCTest
@testable import DanmuSimulator

final class FaultAndWheelTests: XCTestCase {
    func testRoomSelectors() {
        XCTAssertTrue(RoomSelector.all.contains(123))
        let every3 = RoomSelector.everyKth(3, remainder: 1)
        XCTAssertEqual((1...10).filter { every3.contains(Int64($0)) }, [1, 4, 7, 10])
        XCTAssertFalse(RoomSelector.everyKth(0, remainder: 0).contains(0), "k = 0 selects nothing instead of trapping")
        XCTAssertTrue(RoomSelector.rooms([5, 9]).contains(9))
        XCTAssertFalse(RoomSelector.rooms([5, 9]).contains(6))
    }

    func testActiveFaultsHonourRoomsAndFirstConnections() {
        let rules = [
            FaultRule(.closeAfter(messages: 10), rooms: .everyKth(2, remainder: 0), firstConnections: 1),
            FaultRule(.closeAfter(messages: 4), rooms: .rooms([4])),
            FaultRule(.tinyWrites, rooms: .rooms([3])),
            FaultRule(.stall(afterMessages: 2), rooms: .rooms([3]), firstConnections: 2),
        ]
        XCTAssertTrue(ActiveFaults(rules: rules, room: 1, connection: 1).isEmpty)
        XCTAssertEqual(ActiveFaults(rules: rules, room: 2, connection: 1).closeAfter, 10)
        XCTAssertTrue(ActiveFaults(rules: rules, room: 2, connection: 2).isEmpty, "only the first connection")
        XCTAssertEqual(ActiveFaults(rules: rules, room: 4, connection: 1).closeAfter, 4, "smallest count wins")
        XCTAssertEqual(ActiveFaults(rules: rules, room: 4, connection: 3).closeAfter, 4)
        let room3 = ActiveFaults(rules: rules, room: 3, connection: 2)
        XCTAssertTrue(room3.tinyWrites)
        XCTAssertEqual(room3.stallAfter, 2)
        XCTAssertNil(ActiveFaults(rules: rules, room: 3, connection: 3).stallAfter)
    }

    func testMessagesUntilNextFault() {
        var faults = ActiveFaults(
            rules: [
                FaultRule(.closeAfter(messages: 10), rooms: .all),
                FaultRule(.garbageHeader(afterMessages: 3), rooms: .all),
            ],
            room: 1, connection: 1)
        XCTAssertEqual(faults.messagesUntilNextFault(sent: 0), 3)
        XCTAssertEqual(faults.messagesUntilNextFault(sent: 3), 0)
        faults.garbageAfter = nil  // fired
        XCTAssertEqual(faults.messagesUntilNextFault(sent: 3), 7)
        XCTAssertNil(ActiveFaults(rules: [], room: 1, connection: 1).messagesUntilNextFault(sent: 5))
    }

    func testWheelVisitsEntriesAtTheirTick() {
        var wheel = SendWheel<Int>(tickNanoseconds: 10, slotCount: 8, startNanoseconds: 0)
        wheel.insert(1, dueNanoseconds: 25)  // tick 3
        wheel.insert(2, dueNanoseconds: 0)  // never the current tick: tick 1
        wheel.insert(3, dueNanoseconds: 500)  // tick 50, sits in slot 2 and is visited early
        XCTAssertEqual(wheel.count, 3)
        var seen: [Int] = []
        wheel.advance(to: 19) { _, e in seen.append(e) }
        XCTAssertEqual(seen, [2])
        wheel.advance(to: 39) { wheel, e in
            seen.append(e)
            if e == 3 { wheel.insert(e, dueNanoseconds: 500) }  // not due yet: back in
        }
        XCTAssertEqual(seen, [2, 3, 1])
        XCTAssertEqual(wheel.count, 1)
    }

    func testWheelAfterLongStallVisitsEveryEntryOnce() {
        var wheel = SendWheel<Int>(tickNanoseconds: 10, slotCount: 4, startNanoseconds: 0)
        for i in 0..<20 { wheel.insert(i, dueNanoseconds: UInt64(i * 10)) }
        var seen: [Int] = []
        wheel.advance(to: 10_000) { wheel, e in
            seen.append(e)
            wheel.insert(e, dueNanoseconds: 0)  // re-insert goes after the processed range
        }
        XCTAssertEqual(seen.sorted(), Array(0..<20))
        XCTAssertEqual(wheel.count, 20)
        seen = []
        wheel.advance(to: 10_010) { _, e in seen.append(e) }
        XCTAssertEqual(seen.sorted(), Array(0..<20))
    }
}
