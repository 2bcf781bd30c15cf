import DanmuCodecs

/// `GUARD_BUY`: someone bought a guard membership (docs/protocol.md §13.3).
public struct GuardBuy: Sendable, Equatable {
    public var uid: Int64 = 0
    public var uname: String = ""
    /// 1 总督, 2 提督, 3 舰长.
    public var guardLevel: Int = 0
    public var num: Int64 = 0
    /// 金瓜子 = CNY × 1000.
    public var price: Int64 = 0
    public var giftID: Int64 = 0
    public var giftName: String = ""
    /// Unix seconds.
    public var startTime: Int64 = 0

    public init() {}
}

/// `USER_TOAST_MSG` / `USER_TOAST_MSG_V2`: the guard-purchase celebration (duplicates GUARD_BUY with more detail).
/// Each purchase arrives as `USER_TOAST_MSG_V2` twice, with `option.source` 0 and again with 2; the source-2 copy
/// is dropped (no event, not `.unknown`), as blivedm's sample handler does (`if message.source != 2`), so one
/// purchase is one event. Source 0 is the one kept because it is the one every V2 purchase has; an absent
/// `option.source` counts as 0.
public struct UserToast: Sendable, Equatable {
    public var cmd: String = "USER_TOAST_MSG"
    public var uid: Int64 = 0
    public var uname: String = ""
    public var guardLevel: Int = 0
    public var num: Int64 = 0
    /// Actually paid, 金瓜子.
    public var price: Int64 = 0
    /// "月".
    public var unit: String = ""
    /// "舰长".
    public var roleName: String = ""
    public var toastMessage: String = ""
    public var startTime: Int64 = 0

    public init() {}
}

extension GuardBuy: EventKindCodec {
    static var kind: EventKind { .guardBuy }
    static let commands = ["GUARD_BUY"]
    var event: DanmuEvent { .guardBuy(self) }
    var cmd: String { "GUARD_BUY" }

    static func parse(_ message: EventMessage) -> GuardBuy? {
        guard let data = message.data else { return nil }
        var buy = GuardBuy()
        buy.uid = int(data["uid"])
        buy.uname = string(data["username"] ?? data["uname"])
        buy.guardLevel = Int(int(data["guard_level"]))
        buy.num = int(data["num"])
        buy.price = int(data["price"])
        buy.giftID = int(data["gift_id"])
        buy.giftName = string(data["gift_name"])
        buy.startTime = int(data["start_time"])
        return buy
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "guard_level"); w.int(guardLevel)
        w.key(static: "num"); w.int(num)
        w.key(static: "price"); w.int(price)
        w.key(static: "gift_id"); w.int(giftID)
        w.key(static: "gift_name"); w.string(giftName)
        w.key(static: "start_time"); w.int(startTime)
    }

    var textLine: String { "\(clean(uname)) bought \(clean(giftName)) x\(num) (\(price) gold)" }
}

extension UserToast: EventKindCodec {
    static var kind: EventKind { .userToast }
    static let commands = ["USER_TOAST_MSG", "USER_TOAST_MSG_V2"]
    var event: DanmuEvent { .userToast(self) }

    /// A `USER_TOAST_MSG_V2` with `option.source` 2 is handled with no event: see `UserToast`.
    static func parse(_ message: EventMessage, into events: inout [DanmuEvent]) -> Bool {
        if message.cmd == "USER_TOAST_MSG_V2", int(message.data?["option"]?["source"]) == 2 { return true }
        guard let toast = parse(message) else { return false }
        events.append(.userToast(toast))
        return true
    }

    static func parse(_ message: EventMessage) -> UserToast? {
        guard let data = message.data else { return nil }
        var toast = UserToast()
        toast.cmd = message.cmd
        // V2 nests the same facts in sender_uinfo / guard_info / pay_info.
        let sender = data["sender_uinfo"]
        let guardInfo = data["guard_info"]
        let pay = data["pay_info"]
        toast.uid = int(data["uid"] ?? sender?["uid"])
        toast.uname = string(data["username"] ?? sender?["base"]?["name"])
        toast.guardLevel = Int(int(data["guard_level"] ?? guardInfo?["guard_level"]))
        toast.num = int(data["num"] ?? pay?["num"])
        toast.price = int(data["price"] ?? pay?["price"])
        toast.unit = string(data["unit"] ?? pay?["unit"])
        toast.roleName = string(data["role_name"] ?? guardInfo?["role_name"])
        toast.toastMessage = string(data["toast_msg"] ?? data["toast"]?["msg"])
        toast.startTime = int(data["start_time"] ?? guardInfo?["start_time"])
        return toast
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "guard_level"); w.int(guardLevel)
        w.key(static: "num"); w.int(num)
        w.key(static: "price"); w.int(price)
        w.key(static: "unit"); w.string(unit)
        w.key(static: "role_name"); w.string(roleName)
        w.key(static: "toast_msg"); w.string(toastMessage)
        w.key(static: "start_time"); w.int(startTime)
    }

    var textLine: String { "\(clean(uname)) \(clean(roleName)) x\(num) \(clean(unit))" }
}
