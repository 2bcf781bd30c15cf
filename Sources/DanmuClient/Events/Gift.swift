/// A gift (`SEND_GIFT` JSON, or one gift of a protobuf `SEND_GIFT_V2`), PROTOCOL.md §13.1.
public struct Gift: Sendable, Equatable {
    public var cmd: String = "SEND_GIFT"
    public var giftID: Int64 = 0
    public var giftName: String = ""
    public var num: Int64 = 0
    /// Per unit, in 瓜子 (gold: 1000 = ¥1).
    public var price: Int64 = 0
    /// `"gold"` (paid) or `"silver"` (free).
    public var coinType: String = ""
    /// Actual total (blind boxes: box price × num).
    public var totalCoin: Int64 = 0
    public var uid: Int64 = 0
    public var uname: String = ""
    /// "投喂", "喂食"…
    public var action: String = ""
    /// Unix seconds.
    public var timestamp: Int64 = 0
    /// De-duplication id (`tid`), when present.
    public var tid: String?
    public var batchComboID: String?
    public var medal: Medal?
    public var guardLevel: Int = 0
    /// For blind boxes: the box that was bought.
    public var blindGiftName: String?
    /// The receiver (anchor or a co-host), when given.
    public var receiverUID: Int64?

    public init() {}
}

/// `COMBO_SEND`: summary of a gift combo.
public struct ComboSend: Sendable, Equatable {
    public var giftID: Int64 = 0
    public var giftName: String = ""
    public var comboNum: Int64 = 0
    public var totalNum: Int64 = 0
    public var comboTotalCoin: Int64 = 0
    public var uid: Int64 = 0
    public var uname: String = ""
    public var action: String = ""
    public var batchComboID: String = ""
    public var medal: Medal?
    public var receiverUID: Int64?

    public init() {}
}
