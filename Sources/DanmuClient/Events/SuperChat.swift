/// `SUPER_CHAT_MESSAGE` / `SUPER_CHAT_MESSAGE_JPN` (ids arrive as strings in `_JPN`), PROTOCOL.md §13.2.
public struct SuperChat: Sendable, Equatable {
    public var cmd: String = "SUPER_CHAT_MESSAGE"
    /// The SC id that `SUPER_CHAT_MESSAGE_DELETE` refers to.
    public var id: Int64 = 0
    public var uid: Int64 = 0
    public var uname: String = ""
    /// CNY, integer yuan.
    public var price: Int64 = 0
    public var message: String = ""
    /// Translated text when present (`message_trans` / `message_jpn`).
    public var messageTranslated: String?
    /// Unix seconds.
    public var startTime: Int64 = 0
    public var endTime: Int64 = 0
    /// Display seconds (`time`).
    public var duration: Int64 = 0
    public var medal: Medal?
    public var guardLevel: Int = 0
    public var userLevel: Int = 0

    public init() {}
}

/// `SUPER_CHAT_MESSAGE_DELETE`: removal of Super Chats by id.
public struct SuperChatDelete: Sendable, Equatable {
    public var ids: [Int64]
    public init(ids: [Int64]) { self.ids = ids }
}
