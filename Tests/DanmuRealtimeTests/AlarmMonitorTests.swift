@testable import DanmuClient
import DanmuRealtime
import XCTest

/// `RoomAlarmMonitor` driven with made-up snapshots and clock values: no collector, no sleeping.
final class AlarmMonitorTests: XCTestCase {
    private func snapshot(_ rooms: RoomStatistics...) -> CollectorStatistics { CollectorStatistics(rooms: rooms) }

    private func minutes(_ value: Int) -> Duration { .seconds(value * 60) }

    func testDefaultSilentAfterIsFiveMinutes() {
        XCTAssertEqual(RoomAlarmMonitor.Configuration().silentAfter, .seconds(300))
    }

    func testLiveRoomWithoutDanmakuIsRaisedOnceAfterSilentAfter() {
        var monitor = RoomAlarmMonitor()
        let room = PageFixtures.room(7, kinds: [.danmaku: 10])
        XCTAssertEqual(monitor.observe(snapshot(room), at: .zero).raised, [])
        XCTAssertEqual(monitor.observe(snapshot(room), at: minutes(4)).raised, [], "4 min of silence is not 5")
        let update = monitor.observe(snapshot(room), at: minutes(5))
        XCTAssertEqual(update.raised, [RoomAlarm(room: 7, kind: .silent, raisedAt: minutes(5))])
        XCTAssertEqual(update.active, update.raised)
        let later = monitor.observe(snapshot(room), at: minutes(6))
        XCTAssertEqual(later.raised, [], "an alarm already raised is not raised again: the caller warns once")
        XCTAssertEqual(later.active.map(\.kind), [.silent])
        XCTAssertEqual(monitor.alarms(room: 7), [.silent])
        XCTAssertEqual(monitor.active.count, 1)
    }

    func testDanmakuClearsTheAlarmAndRestartsTheSilentStretch() {
        var monitor = RoomAlarmMonitor()
        _ = monitor.observe(snapshot(PageFixtures.room(7, kinds: [.danmaku: 10])), at: .zero)
        XCTAssertEqual(
            monitor.observe(snapshot(PageFixtures.room(7, kinds: [.danmaku: 10])), at: minutes(5)).raised.count, 1)
        let recovered = monitor.observe(snapshot(PageFixtures.room(7, kinds: [.danmaku: 11])), at: minutes(6))
        XCTAssertEqual(recovered.cleared.map(\.kind), [.silent])
        XCTAssertEqual(recovered.active, [])
        let quiet = PageFixtures.room(7, kinds: [.danmaku: 11])
        XCTAssertEqual(monitor.observe(snapshot(quiet), at: minutes(10)).raised, [], "silent since minute 6 only")
        let again = monitor.observe(snapshot(quiet), at: minutes(11))
        XCTAssertEqual(again.raised, [RoomAlarm(room: 7, kind: .silent, raisedAt: minutes(11))], "a new episode")
    }

    func testOtherKindsDoNotCountAsDanmaku() {
        var monitor = RoomAlarmMonitor()
        _ = monitor.observe(snapshot(PageFixtures.room(3, kinds: [.danmaku: 1, .gift: 5])), at: .zero)
        let busy = PageFixtures.room(3, kinds: [.danmaku: 1, .gift: 500, .popularity: 40])
        XCTAssertEqual(monitor.observe(snapshot(busy), at: minutes(5)).raised.map(\.kind), [.silent])
    }

    func testTimeSpentNotLiveNeverCountsAsSilence() {
        var monitor = RoomAlarmMonitor()
        _ = monitor.observe(snapshot(PageFixtures.room(4, phase: .backingOff)), at: .zero)
        XCTAssertEqual(monitor.observe(snapshot(PageFixtures.room(4, phase: .connecting)), at: minutes(9)).active, [])
        XCTAssertEqual(monitor.observe(snapshot(PageFixtures.room(4)), at: minutes(10)).active, [], "live from now")
        XCTAssertEqual(monitor.observe(snapshot(PageFixtures.room(4)), at: minutes(14)).active, [])
        XCTAssertEqual(monitor.observe(snapshot(PageFixtures.room(4)), at: minutes(15)).raised.map(\.kind), [.silent])
        let down = monitor.observe(snapshot(PageFixtures.room(4, phase: .backingOff)), at: minutes(16))
        XCTAssertEqual(down.cleared.map(\.kind), [.silent], "a room that is not live is not 'live but silent'")
    }

    func testMaskedModeIsRaisedOnceAndClearedWhenTheRoomIsRemoved() {
        var monitor = RoomAlarmMonitor()
        let plain = PageFixtures.room(5, kinds: [.danmaku: 1])
        XCTAssertEqual(monitor.observe(snapshot(plain), at: .zero).raised, [])
        var masked = plain
        masked.maskedModeSeen = true
        masked.eventsByKind[.danmaku] = 2
        XCTAssertEqual(monitor.observe(snapshot(masked), at: .seconds(1)).raised.map(\.kind), [.masked])
        masked.eventsByKind[.danmaku] = 3
        XCTAssertEqual(monitor.observe(snapshot(masked), at: .seconds(2)).raised, [])
        let removed = monitor.observe(snapshot(), at: .seconds(3))
        XCTAssertEqual(removed.cleared.map(\.room), [5])
        XCTAssertEqual(removed.active, [])
        XCTAssertEqual(monitor.alarms(room: 5), [])
    }

    func testAlarmsOfSeveralRoomsComeSortedAndDescribeThemselves() {
        var monitor = RoomAlarmMonitor(configuration: .init(silentAfter: .seconds(60)))
        var nine = PageFixtures.room(9)
        nine.maskedModeSeen = true
        let rooms = snapshot(nine, PageFixtures.room(2), PageFixtures.room(6, phase: .givenUp))
        XCTAssertEqual(monitor.observe(rooms, at: .zero).raised.map { "\($0.room):\($0.kind)" }, ["9:masked"])
        let update = monitor.observe(rooms, at: .seconds(60))
        XCTAssertEqual(update.raised.map { "\($0.room):\($0.kind)" }, ["2:silent", "9:silent"])
        XCTAssertEqual(update.active.map { "\($0.room):\($0.kind)" }, ["2:silent", "9:masked", "9:silent"])
        XCTAssertTrue(update.active[1].description.contains("masked mode"), update.active[1].description)
        XCTAssertTrue(update.active[0].description.contains("room 2"), update.active[0].description)
    }
}
