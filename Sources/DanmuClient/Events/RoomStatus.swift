/// `LIVE`: the stream started (often sent twice; only the first carries `live_time`).
public struct Live: Sendable, Equatable {
    public var roomID: Int64 = 0
    public var liveKey: String = ""
    /// Unix seconds, when given.
    public var liveTime: Int64?
    public var livePlatform: String = ""
    public init() {}
}

/// `PREPARING`: the stream ended (`roomid` arrives as a string; `round` 1 = rotation playback follows).
public struct Preparing: Sendable, Equatable {
    public var roomID: Int64 = 0
    public var round: Int64?
    public init() {}
}

/// `ROOM_CHANGE`: title or area changed.
public struct RoomChange: Sendable, Equatable {
    public var title: String = ""
    public var areaID: Int64 = 0
    public var parentAreaID: Int64 = 0
    public var areaName: String = ""
    public var parentAreaName: String = ""
    public var liveKey: String = ""
    public init() {}
}

/// `WARNING`, `CUT_OFF`, `CUT_OFF_V2`: an administrator warned the anchor or cut the stream.
public struct Warning: Sendable, Equatable {
    public var cmd: String = "WARNING"
    public var message: String = ""
    public var roomID: Int64 = 0
    public var isCutOff: Bool { cmd.hasPrefix("CUT_OFF") }
    public init() {}
}

/// `LOG_IN_NOTICE`: names are masked on this socket until it authenticates with a logged-in uid.
public struct LoginNotice: Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
}
