import DanmuCodecs

// The stream's status: started, ended, retitled.

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

extension Live: EventKindCodec {
    static var kind: EventKind { .live }
    static let commands = ["LIVE"]
    var event: DanmuEvent { .live(self) }
    var cmd: String { "LIVE" }

    /// The fields sit at the top level or in `data`, depending on the sender; never nil.
    static func parse(_ message: EventMessage) -> Live? {
        let root = message.root, data = message.data
        var live = Live()
        live.roomID = int(root["roomid"] ?? data?["roomid"])
        live.liveKey = stringOrNumber(root["live_key"] ?? data?["live_key"])
        live.liveTime = (root["live_time"] ?? data?["live_time"])?.int64Lenient
        live.livePlatform = string(root["live_platform"] ?? data?["live_platform"])
        return live
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "roomid"); w.int(roomID)
        w.key(static: "live_key"); w.string(liveKey)
        w.key(static: "live_time"); w.optional(liveTime)
        w.key(static: "live_platform"); w.string(livePlatform)
    }

    var textLine: String { "live started (\(clean(livePlatform)))" }
}

extension Preparing: EventKindCodec {
    static var kind: EventKind { .preparing }
    static let commands = ["PREPARING"]
    var event: DanmuEvent { .preparing(self) }
    var cmd: String { "PREPARING" }

    /// Top level or `data`, as `LIVE`; never nil.
    static func parse(_ message: EventMessage) -> Preparing? {
        let root = message.root, data = message.data
        var preparing = Preparing()
        preparing.roomID = int(root["roomid"] ?? data?["roomid"])
        preparing.round = (root["round"] ?? data?["round"])?.int64Lenient
        return preparing
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "roomid"); w.int(roomID)
        w.key(static: "round"); w.optional(round)
    }

    var textLine: String { "live ended" + (round == 1 ? " (rotation)" : "") }
}

extension RoomChange: EventKindCodec {
    static var kind: EventKind { .roomChange }
    static let commands = ["ROOM_CHANGE"]
    var event: DanmuEvent { .roomChange(self) }
    var cmd: String { "ROOM_CHANGE" }

    static func parse(_ message: EventMessage) -> RoomChange? {
        guard let data = message.data else { return nil }
        var change = RoomChange()
        change.title = string(data["title"])
        change.areaID = int(data["area_id"])
        change.parentAreaID = int(data["parent_area_id"])
        change.areaName = string(data["area_name"])
        change.parentAreaName = string(data["parent_area_name"])
        change.liveKey = stringOrNumber(data["live_key"])
        return change
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "title"); w.string(title)
        w.key(static: "area_id"); w.int(areaID)
        w.key(static: "parent_area_id"); w.int(parentAreaID)
        w.key(static: "area_name"); w.string(areaName)
        w.key(static: "parent_area_name"); w.string(parentAreaName)
        w.key(static: "live_key"); w.string(liveKey)
    }

    var textLine: String { "\(clean(title)) — \(clean(parentAreaName))/\(clean(areaName))" }
}
