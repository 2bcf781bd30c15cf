/// The Redis Cluster key → hash slot function: CRC16 (XMODEM: polynomial 0x1021, initial value 0, no
/// reflection) of the key, mod 16384, as `CLUSTER KEYSLOT` computes it.
///
/// Hash tags: when the key holds a `{` and, after it, a `}` with at least one byte between them, only the bytes
/// between the *first* `{` and the first `}` after it are hashed. So `{danmu}:rooms` and `{danmu}:lease:7` share
/// a slot; `{}x` and `x{}` are hashed whole (an empty tag is no tag).
///
/// ```swift
/// RedisKeySlot.slot(of: "{danmu}:rooms") == RedisKeySlot.slot(of: "danmu")  // true
/// ```
public enum RedisKeySlot {
    /// Redis Cluster's number of hash slots.
    public static let slotCount = 16384

    /// The slot (0 ..< 16384) of `key`.
    public static func slot(of key: String) -> Int {
        slot(of: Array(key.utf8))
    }

    /// The slot (0 ..< 16384) of a key given as bytes.
    public static func slot(of key: [UInt8]) -> Int {
        Int(crc16(hashed(key)) & UInt16(slotCount - 1))
    }

    /// The part of `key` that is hashed: the hash tag's content, or the whole key.
    static func hashed(_ key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
            close > open + 1
        else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16/XMODEM, bit by bit: keys are short and this runs once per routed command, so the 512-byte table
    /// Redis uses would buy nothing measurable here.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }

    /// The key a command addresses, for routing, or nil when it has none (`TIME`, `PING`, `MULTI`, `EXEC`,
    /// `PUBLISH`, an `EVAL` with no keys …). Scripts (`EVAL`/`EVALSHA`/`FCALL`) name their first key after the
    /// key count; every other command used here takes its key first. A command with several keys is routed by
    /// its first: DanmuCluster's keys all carry one hash tag, and Redis refuses a cross-slot command anyway.
    public static func routingKey(of command: [[UInt8]]) -> [UInt8]? {
        guard let name = command.first else { return nil }
        let upper = String(decoding: name, as: UTF8.self).uppercased()
        switch upper {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard command.count >= 4, let count = Int(String(decoding: command[2], as: UTF8.self)), count > 0
            else { return nil }
            return command[3]
        case "PING", "TIME", "INFO", "MULTI", "EXEC", "DISCARD", "ASKING", "AUTH", "SELECT", "SCRIPT", "CLUSTER",
            "PUBLISH", "DBSIZE", "FLUSHALL", "FLUSHDB", "CLIENT", "HELLO", "READONLY", "READWRITE", "CONFIG":
            return nil
        default:
            return command.count >= 2 ? command[1] : nil
        }
    }
}
