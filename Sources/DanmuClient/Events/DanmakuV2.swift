import DanmuCodecs

/// `DANMU_MSG.dm_v2`: the same danmaku as base64 protobuf, sent beside `info` (often empty). Field map from
/// xjbeta/iina-plus `IINA+/Utils/Danmaku/BiliLiveDMv2.pb.swift` (generated from sjh8130/bili_danmaku
/// `docs/Live_dm_v2_2023_03_23.proto`): 1 id_str · 6 text · 20 user {1 uid, 2 name}. Only the text is read, as a
/// fallback when `info[1]` and `extra.content` are both empty.
extension Danmaku {
    /// The text in `dm_v2`; nil when it is absent, empty, not protobuf, or has no text.
    static func dmV2Text(_ node: JSONNode?) -> String? {
        guard let fields = ProtobufPayload.decode(node) else { return nil }
        for field in fields where field.number == 6 {
            let text = ProtobufPayload.text(field)
            return text.isEmpty ? nil : text
        }
        return nil
    }
}
