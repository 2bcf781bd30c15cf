/// An owned JSON value tree, for building documents and for comparing them in tests.
///
/// Numbers keep the distinction JSON text makes: an integer literal that fits Int64 is `.int`, every other number
/// `.double` (so `1` and `1.0` differ; writing preserves it because `Double.description` always has `.` or `e`).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// Object members in source order, duplicates kept. Lookup by key returns the first match, like ``JSONNode``.
public struct JSONObject: Equatable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public var members: [(key: String, value: JSONValue)]

    /// An object with `members` in this order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// `["a": .int(1), "b": .null]`, in the written order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { (key: $0.0, value: $0.1) }
    }

    /// The first member named `key`.
    public subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    /// Appends a member (does not replace an existing one with the same key).
    public mutating func append(_ key: String, _ value: JSONValue) {
        members.append((key: key, value: value))
    }

    /// Number of members, duplicates included.
    public var count: Int { members.count }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONNode {
    /// Copies this value (and its subtree) into an owned ``JSONValue``.
    ///
    /// Recursion depth is bounded by the `maxDepth` the document was parsed with.
    public func toValue() -> JSONValue {
        switch tag {
        case JSONTag.null: return .null
        case JSONTag.false: return .bool(false)
        case JSONTag.true: return .bool(true)
        case JSONTag.number:
            if let i = int64 { return .int(i) }
            return .double(double ?? .nan)
        case JSONTag.string: return .string(string ?? "")
        case JSONTag.array: return .array(elements.map { $0.toValue() })
        default:
            var object = JSONObject()
            object.members.reserveCapacity(count)
            var iterator = members.makeIterator()
            while let (key, value) = iterator.nextNodes() {
                object.append(key.string ?? "", value.toValue())
            }
            return .object(object)
        }
    }
}

extension JSONValue {
    /// Parses `bytes` into an owned value.
    public init(parsing bytes: [UInt8], maxDepth: Int = 64) throws(JSONError) {
        self = try JSONDocument(parsing: bytes, maxDepth: maxDepth).root.toValue()
    }

    /// The value written compactly with ``JSONWriter``.
    public func serialized(asciiOnly: Bool = false) -> [UInt8] {
        var writer = JSONWriter(asciiOnly: asciiOnly)
        writer.value(self)
        return writer.bytes
    }
}
