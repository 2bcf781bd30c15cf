import DanmuCodecs

/// Per-cmd field mapping of the `data` objects (PROTOCOL.md §13).
extension EventParser {
    static func parseGift(_ data: JSONNode) -> Gift {
        var gift = Gift()
        gift.giftID = int(data["giftId"] ?? data["gift_id"])
        gift.giftName = str(data["giftName"] ?? data["gift_name"])
        gift.num = int(data["num"])
        gift.price = int(data["price"])
        gift.coinType = str(data["coin_type"])
        gift.totalCoin = int(data["total_coin"])
        gift.uid = int(data["uid"])
        gift.uname = str(data["uname"])
        gift.action = str(data["action"])
        gift.timestamp = int(data["timestamp"])
        let tid = stringOrNumber(data["tid"])
        gift.tid = tid.isEmpty ? nil : tid
        let batch = str(data["batch_combo_id"])
        gift.batchComboID = batch.isEmpty ? nil : batch
        gift.medal = medal(data["medal_info"])
        gift.guardLevel = Int(int(data["guard_level"]))
        if let blind = data["blind_gift"], blind.kind == .object {
            gift.blindGiftName = blind["original_gift_name"]?.string
        }
        gift.receiverUID = data["receive_user_info"]?["uid"]?.int64Lenient
        return gift
    }

    static func parseCombo(_ data: JSONNode) -> ComboSend {
        var combo = ComboSend()
        combo.giftID = int(data["gift_id"])
        combo.giftName = str(data["gift_name"])
        combo.comboNum = int(data["combo_num"])
        combo.totalNum = int(data["total_num"])
        combo.comboTotalCoin = int(data["combo_total_coin"])
        combo.uid = int(data["uid"])
        combo.uname = str(data["uname"])
        combo.action = str(data["action"])
        combo.batchComboID = str(data["batch_combo_id"])
        combo.medal = medal(data["medal_info"])
        combo.receiverUID = (data["receive_user_info"]?["uid"] ?? data["ruid"])?.int64Lenient
        return combo
    }

    static func parseSuperChat(_ data: JSONNode, cmd: String) -> SuperChat {
        var sc = SuperChat()
        sc.cmd = cmd
        sc.id = int(data["id"])
        sc.uid = int(data["uid"])
        let user = data["user_info"]
        sc.uname = str(user?["uname"])
        sc.price = int(data["price"])
        sc.message = str(data["message"])
        let translated = data["message_trans"]?.string ?? data["message_jpn"]?.string ?? ""
        sc.messageTranslated = translated.isEmpty ? nil : translated
        sc.startTime = int(data["start_time"])
        sc.endTime = int(data["end_time"])
        sc.duration = int(data["time"])
        sc.medal = medal(data["medal_info"])
        sc.guardLevel = Int(int(user?["guard_level"]))
        sc.userLevel = Int(int(user?["user_level"]))
        return sc
    }

    static func parseGuardBuy(_ data: JSONNode) -> GuardBuy {
        var buy = GuardBuy()
        buy.uid = int(data["uid"])
        buy.uname = str(data["username"] ?? data["uname"])
        buy.guardLevel = Int(int(data["guard_level"]))
        buy.num = int(data["num"])
        buy.price = int(data["price"])
        buy.giftID = int(data["gift_id"])
        buy.giftName = str(data["gift_name"])
        buy.startTime = int(data["start_time"])
        return buy
    }

    static func parseUserToast(_ data: JSONNode, cmd: String) -> UserToast {
        var toast = UserToast()
        toast.cmd = cmd
        // V2 nests the same facts in sender_uinfo / guard_info / pay_info.
        let sender = data["sender_uinfo"]
        let guardInfo = data["guard_info"]
        let pay = data["pay_info"]
        toast.uid = int(data["uid"] ?? sender?["uid"])
        toast.uname = str(data["username"] ?? sender?["base"]?["name"])
        toast.guardLevel = Int(int(data["guard_level"] ?? guardInfo?["guard_level"]))
        toast.num = int(data["num"] ?? pay?["num"])
        toast.price = int(data["price"] ?? pay?["price"])
        toast.unit = str(data["unit"] ?? pay?["unit"])
        toast.roleName = str(data["role_name"] ?? guardInfo?["role_name"])
        toast.toastMessage = str(data["toast_msg"] ?? data["toast"]?["msg"])
        toast.startTime = int(data["start_time"] ?? guardInfo?["start_time"])
        return toast
    }

    static func parseInteract(_ data: JSONNode) -> Interact {
        var interact = Interact()
        interact.msgType = int(data["msg_type"])
        interact.action = Interact.Action(msgType: interact.msgType)
        interact.uid = int(data["uid"])
        interact.uname = str(data["uname"])
        interact.isNameMasked = interact.uid == 0 || interact.uname.hasSuffix("***")
        interact.medal = medal(data["fans_medal"])
        interact.timestamp = int(data["timestamp"])
        interact.roomID = int(data["roomid"])
        return interact
    }
}
