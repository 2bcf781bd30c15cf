import DanmuClient

/// A condition of one room that an operator should look at, raised by `RoomAlarmMonitor`.
public struct RoomAlarm: Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the room.
    public enum Kind: String, Sendable, CaseIterable, Comparable {
        /// The room is live (authenticated, heartbeats answered) but delivered no danmaku for
        /// `RoomAlarmMonitor.Configuration.silentAfter`: a stream that looks healthy and carries nothing.
        case silent
        /// The server switched the room's socket to guest mode (`RoomStatistics.maskedModeSeen`): user names
        /// and uids are masked, so the data is worth less than it looks.
        case masked

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var room: Int64
    public var kind: Kind
    /// The monitor's clock value when the alarm was raised.
    public var raisedAt: Duration

    public init(room: Int64, kind: Kind, raisedAt: Duration) {
        self.room = room
        self.kind = kind
        self.raisedAt = raisedAt
    }

    /// One line for a terminal warning, e.g. "room 42: live but no danmaku for 300 s".
    public var description: String {
        switch kind {
        case .silent: return "room \(room): live but no danmaku (silent alarm)"
        case .masked: return "room \(room): socket switched to masked mode (user names and uids hidden)"
        }
    }
}

/// Watches successive `CollectorStatistics` snapshots and flags rooms that are live but silent, or masked.
///
/// Pure and deterministic: no clock and no thread of its own. The caller passes each snapshot with a clock value
/// (any monotonic origin, e.g. `.nanoseconds(SystemClock.monotonicNanoseconds())`) and gets back the alarms
/// raised since the previous call, so it can warn ONCE on stderr, and the current set, for the page and
/// `/metrics`. An alarm that clears and comes back later is a new episode and is raised again.
///
/// Not thread-safe: one owner calls `observe` (the status timer); hand `active` to other threads by value.
public struct RoomAlarmMonitor: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// How long a live room may deliver no danmaku before it is flagged (default 5 minutes).
        public var silentAfter: Duration

        public init(silentAfter: Duration = .seconds(300)) {
            self.silentAfter = silentAfter
        }
    }

    /// What one `observe` call found.
    public struct Update: Sendable, Equatable {
        /// Alarms that were not active before this snapshot: warn about these once.
        public var raised: [RoomAlarm]
        /// Alarms active before this snapshot and no longer (the room recovered or was removed).
        public var cleared: [RoomAlarm]
        /// Every alarm active now, sorted by room then kind.
        public var active: [RoomAlarm]
    }

    // What the monitor remembers of one room between snapshots.
    private struct RoomTrack: Sendable {
        var danmaku: Int
        // Start of the current silent stretch: when the room became live, or delivered its last danmaku while
        // live. nil while the room is not live, so time spent connecting or backing off never counts as silence.
        var quietSince: Duration?
    }

    public let configuration: Configuration
    private var tracks: [Int64: RoomTrack] = [:]
    private var alarms: [AlarmKey: RoomAlarm] = [:]

    private struct AlarmKey: Hashable, Sendable {
        var room: Int64
        var kind: RoomAlarm.Kind
    }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Every alarm active after the last `observe`, sorted by room then kind.
    public var active: [RoomAlarm] {
        alarms.values.sorted { ($0.room, $0.kind) < ($1.room, $1.kind) }
    }

    /// The active alarms of one room, sorted by kind.
    public func alarms(room: Int64) -> [RoomAlarm.Kind] {
        RoomAlarm.Kind.allCases.filter { alarms[AlarmKey(room: room, kind: $0)] != nil }
    }

    /// Takes the next snapshot at clock value `now` (never earlier than the previous call's) and returns what
    /// changed. Rooms missing from the snapshot are forgotten and their alarms cleared.
    public mutating func observe(_ statistics: CollectorStatistics, at now: Duration) -> Update {
        var present = Set<Int64>()
        var wanted = Set<AlarmKey>()
        for room in statistics.rooms {
            present.insert(room.room)
            let danmaku = room.eventsByKind[.danmaku] ?? 0
            var track = tracks[room.room] ?? RoomTrack(danmaku: danmaku, quietSince: nil)
            if room.phase == .live {
                // A danmaku since the last snapshot (or a counter reset by a new collector) restarts the stretch.
                if track.quietSince == nil || danmaku != track.danmaku { track.quietSince = now }
                if let since = track.quietSince, now - since >= configuration.silentAfter {
                    wanted.insert(AlarmKey(room: room.room, kind: .silent))
                }
            } else {
                track.quietSince = nil
            }
            track.danmaku = danmaku
            tracks[room.room] = track
            if room.maskedModeSeen { wanted.insert(AlarmKey(room: room.room, kind: .masked)) }
        }
        for room in tracks.keys where !present.contains(room) { tracks[room] = nil }

        var raised: [RoomAlarm] = []
        var cleared: [RoomAlarm] = []
        for (key, alarm) in alarms where !wanted.contains(key) {
            cleared.append(alarm)
            alarms[key] = nil
        }
        for key in wanted where alarms[key] == nil {
            let alarm = RoomAlarm(room: key.room, kind: key.kind, raisedAt: now)
            alarms[key] = alarm
            raised.append(alarm)
        }
        let order: (RoomAlarm, RoomAlarm) -> Bool = { ($0.room, $0.kind) < ($1.room, $1.kind) }
        return Update(raised: raised.sorted(by: order), cleared: cleared.sorted(by: order), active: active)
    }
}
