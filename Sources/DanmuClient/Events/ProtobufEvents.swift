import DanmuCodecs

/// Protobuf-carrying cmds (base64 in `data.pb`, PROTOCOL.md §11.2). Filled in once the protobuf reader lands.
enum ProtobufEvents {
    static func interactWordV2(_ data: JSONNode) -> Interact? { nil }
    static func sendGiftV2(_ data: JSONNode) -> [Gift]? { nil }
}
