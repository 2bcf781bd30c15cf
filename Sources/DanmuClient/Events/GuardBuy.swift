/// `GUARD_BUY`: someone bought a guard membership (PROTOCOL.md §13.3).
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
