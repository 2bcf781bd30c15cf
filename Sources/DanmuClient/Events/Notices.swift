import DanmuCodecs

// What the site shows around the chat: site-wide notices and banners, the list of rooms that went offline,
// the Super Chat button. Most are the same in every room, so each has its own kind to filter it by.

/// `NOTICE_MSG`: a site-wide or room notice (rank winners, big gifts elsewhere); fields at the top level.
public struct Notice: Sendable, Equatable {
    public var id: Int64 = 0
    public var name: String = ""
    public var msgType: Int64 = 0
    /// The text, with `<%…%>` highlight markers as sent.
    public var msgCommon: String = ""
    /// The room the notice links to.
    public var realRoomID: Int64 = 0
    public var linkURL: String = ""
    public init() {}
}

/// `COMMON_NOTICE_DANMAKU`: a system line in the chat (task reminders, PK results); `content_segments` joined.
public struct CommonNotice: Sendable, Equatable {
    public var text: String = ""
    /// Platforms it is shown on.
    public var terminals: [Int64] = []
    public init() {}
}

/// `HOT_ROOM_NOTIFY`: the server asks clients of a hot room to slow their polling.
public struct HotRoomNotify: Sendable, Equatable {
    public var threshold: Int64 = 0
    /// Seconds.
    public var ttl: Int64 = 0
    public init() {}
}

/// `WIDGET_BANNER`: the banners under the room title (limited-time tasks…), keyed by id in `widget_list`.
public struct WidgetBanner: Sendable, Equatable {
    public struct Widget: Sendable, Equatable {
        public var id: Int64 = 0
        public var title: String = ""
        public var tipText: String = ""
        /// false when the banner is removed.
        public var isAdd: Bool = false
        public init() {}
    }

    /// Unix seconds.
    public var timestamp: Int64 = 0
    public var widgets: [Widget] = []
    public init() {}
}

/// `STOP_LIVE_ROOM_LIST`: rooms across the site that just went offline, sent to every room (site-wide noise).
public struct StopLiveRoomList: Sendable, Equatable {
    public var roomIDs: [Int64] = []
    public init() {}
}

/// `SUPER_CHAT_ENTRANCE`: the Super Chat button was shown (`status` 1) or hidden (0).
public struct SuperChatEntrance: Sendable, Equatable {
    public var status: Int64 = 0
    public var broadcastType: Int64 = 0
    /// Top-level `roomid`, sent as a string.
    public var roomID: Int64 = 0
    public init() {}
}

extension Notice: EventKindCodec {
    static var kind: EventKind { .notice }
    static let commands = ["NOTICE_MSG"]
    var event: DanmuEvent { .notice(self) }
    var cmd: String { "NOTICE_MSG" }

    /// The fields sit at the top level (the 2020+ shape); never nil.
    static func parse(_ message: EventMessage) -> Notice? {
        let root = message.root
        var notice = Notice()
        notice.id = int(root["id"])
        notice.name = string(root["name"])
        notice.msgType = int(root["msg_type"])
        notice.msgCommon = string(root["msg_common"])
        notice.realRoomID = int(root["real_roomid"] ?? root["roomid"])
        notice.linkURL = string(root["link_url"])
        return notice
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "id"); w.int(id)
        w.key(static: "name"); w.string(name)
        w.key(static: "msg_type"); w.int(msgType)
        w.key(static: "msg_common"); w.string(msgCommon)
        w.key(static: "real_roomid"); w.int(realRoomID)
        w.key(static: "link_url"); w.string(linkURL)
    }

    var textLine: String { "\(clean(name)): \(clean(msgCommon))" }
}

extension CommonNotice: EventKindCodec {
    static var kind: EventKind { .commonNotice }
    static let commands = ["COMMON_NOTICE_DANMAKU"]
    var event: DanmuEvent { .commonNotice(self) }
    var cmd: String { "COMMON_NOTICE_DANMAKU" }

    static func parse(_ message: EventMessage) -> CommonNotice? {
        guard let data = message.data else { return nil }
        var notice = CommonNotice()
        notice.text = array(data["content_segments"]).map { string($0["text"]) }.joined()
        notice.terminals = ints(data["terminals"])
        return notice
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "text"); w.string(text)
        w.key(static: "terminals"); w.ints(terminals)
    }

    var textLine: String { clean(text) }
}

extension HotRoomNotify: EventKindCodec {
    static var kind: EventKind { .hotRoomNotify }
    static let commands = ["HOT_ROOM_NOTIFY"]
    var event: DanmuEvent { .hotRoomNotify(self) }
    var cmd: String { "HOT_ROOM_NOTIFY" }

    static func parse(_ message: EventMessage) -> HotRoomNotify? {
        guard let data = message.data else { return nil }
        var notify = HotRoomNotify()
        notify.threshold = int(data["threshold"])
        notify.ttl = int(data["ttl"])
        return notify
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "threshold"); w.int(threshold)
        w.key(static: "ttl"); w.int(ttl)
    }

    var textLine: String { "hot room (threshold \(threshold), ttl \(ttl) s)" }
}

extension WidgetBanner: EventKindCodec {
    static var kind: EventKind { .widgetBanner }
    static let commands = ["WIDGET_BANNER"]
    var event: DanmuEvent { .widgetBanner(self) }
    var cmd: String { "WIDGET_BANNER" }

    static func parse(_ message: EventMessage) -> WidgetBanner? {
        guard let data = message.data else { return nil }
        var banner = WidgetBanner()
        banner.timestamp = int(data["timestamp"])
        if let list = data["widget_list"], list.kind == .object {
            for (_, item) in list.members where item.kind == .object {
                var widget = Widget()
                widget.id = int(item["id"])
                widget.title = string(item["title"])
                widget.tipText = string(item["tip_text"])
                widget.isAdd = item["is_add"]?.bool ?? false
                banner.widgets.append(widget)
            }
        }
        return banner
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "timestamp"); w.int(timestamp)
        w.key(static: "widgets")
        w.beginArray()
        for widget in widgets {
            w.beginObject()
            w.key(static: "id"); w.int(widget.id)
            w.key(static: "title"); w.string(widget.title)
            w.key(static: "tip_text"); w.string(widget.tipText)
            w.key(static: "is_add"); w.bool(widget.isAdd)
            w.endObject()
        }
        w.endArray()
    }

    var textLine: String {
        widgets.map { ($0.isAdd ? "+" : "-") + clean($0.title) }.joined(separator: ", ")
    }
}

extension StopLiveRoomList: EventKindCodec {
    static var kind: EventKind { .stopLiveRoomList }
    static let commands = ["STOP_LIVE_ROOM_LIST"]
    var event: DanmuEvent { .stopLiveRoomList(self) }
    var cmd: String { "STOP_LIVE_ROOM_LIST" }

    static func parse(_ message: EventMessage) -> StopLiveRoomList? {
        guard let data = message.data else { return nil }
        var list = StopLiveRoomList()
        list.roomIDs = ints(data["room_id_list"])
        return list
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "room_id_list"); w.ints(roomIDs)
    }

    var textLine: String { "\(roomIDs.count) rooms went offline" }
}

extension SuperChatEntrance: EventKindCodec {
    static var kind: EventKind { .superChatEntrance }
    static let commands = ["SUPER_CHAT_ENTRANCE"]
    var event: DanmuEvent { .superChatEntrance(self) }
    var cmd: String { "SUPER_CHAT_ENTRANCE" }

    static func parse(_ message: EventMessage) -> SuperChatEntrance? {
        guard let data = message.data else { return nil }
        var entrance = SuperChatEntrance()
        entrance.status = int(data["status"])
        entrance.broadcastType = int(data["broadcast_type"])
        entrance.roomID = int(message.root["roomid"])
        return entrance
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "status"); w.int(status)
        w.key(static: "broadcast_type"); w.int(broadcastType)
        w.key(static: "roomid"); w.int(roomID)
    }

    var textLine: String { "Super Chat button " + (status == 1 ? "shown" : "hidden") }
}
