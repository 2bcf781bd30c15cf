/// WBI request signing (docs/protocol.md §2.2), needed by getDanmuInfo since 2025-05-26.
///
/// `mixinKey` = the characters of `img_key + sub_key` picked in the order of `mixinTable`, first 32.
/// A signed query = the params plus `wts` (unix seconds), sorted by key, values stripped of `!'()*`,
/// percent-encoded like JS `encodeURIComponent`, joined with `&`; `w_rid` = md5(query + mixinKey).
public struct WBISigner: Sendable, Equatable {
    /// The permutation published by BAC `docs/misc/sign/wbi.md`.
    static let mixinTable: [Int] = [
        46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39,
        12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63,
        57, 62, 11, 36, 20, 34, 44, 52,
    ]

    public let imgKey: String
    public let subKey: String
    public let mixinKey: String

    /// Builds a signer from the two 32-hex-char keys (file stems of `wbi_img.img_url` / `sub_url`).
    /// Returns nil when the concatenation is shorter than 64 characters (the table indexes up to 63).
    public init?(imgKey: String, subKey: String) {
        let raw = Array((imgKey + subKey).utf8)
        guard raw.count >= 64 else { return nil }
        self.imgKey = imgKey
        self.subKey = subKey
        mixinKey = String(decoding: WBISigner.mixinTable.prefix(32).map { raw[$0] }, as: UTF8.self)
    }

    /// Builds a signer from the nav answer's URLs, e.g. `https://i0.hdslb.com/bfs/wbi/7cd0…077c.png`.
    public init?(imgURL: String, subURL: String) {
        self.init(imgKey: WBISigner.stem(of: imgURL), subKey: WBISigner.stem(of: subURL))
    }

    /// The file name without directory and extension.
    static func stem(of url: String) -> String {
        let name = url.split(separator: "/").last.map(String.init) ?? url
        if let dot = name.lastIndex(of: ".") { return String(name[..<dot]) }
        return name
    }

    /// The signed query string (`...&wts=...&w_rid=...`) for `params` at time `wts`.
    public func signedQuery(_ params: [(String, String)], wts: Int64) -> String {
        var all = params
        all.append(("wts", String(wts)))
        let query = WBISigner.canonicalQuery(all)
        return query + "&w_rid=" + MD5.hex(query + mixinKey)
    }

    /// Whether decoded query parameters carry a `w_rid` that matches these keys: the server's side of
    /// `signedQuery` (it re-sorts and re-encodes what it received, so parameter order on the wire is free).
    /// A query without `wts` or `w_rid` does not verify.
    public func verifies(_ params: [(String, String)]) -> Bool {
        guard let wRid = params.first(where: { $0.0 == "w_rid" })?.1, params.contains(where: { $0.0 == "wts" })
        else { return false }
        let query = WBISigner.canonicalQuery(params.filter { $0.0 != "w_rid" })
        return MD5.hex(query + mixinKey) == wRid
    }

    /// Sorted by key, values stripped of `!'()*`, percent-encoded, joined with `&`.
    static func canonicalQuery(_ params: [(String, String)]) -> String {
        let sorted = params.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        return sorted.map { key, value in
            WBISigner.encodeURIComponent(key) + "=" + WBISigner.encodeURIComponent(WBISigner.stripUnsafe(value))
        }.joined(separator: "&")
    }

    /// Removes the characters `!'()*` that the server drops before verifying.
    static func stripUnsafe(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.filter { !"!'()*".unicodeScalars.contains($0) }))
    }

    /// JS `encodeURIComponent`: keeps `A–Z a–z 0–9 - _ . ! ~ * ' ( )`, %XX (uppercase) for every other UTF-8 byte.
    static func encodeURIComponent(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(byte)
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "~"),
                UInt8(ascii: "*"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
