// A protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/), enough for the base64
// protobuf payloads Bilibili puts in JSON (`INTERACT_WORD_V2.data.pb`, `SEND_GIFT_V2`, `dm_v2`): no schema,
// fields come out as (number, wire value) and the caller picks what it knows.

/// Why protobuf bytes could not be read. `offset` is the byte offset in the reader's input.
public struct ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The input ends inside a varint.
        case truncatedVarint
        /// A varint longer than 10 bytes, or a 10th byte that sets bits beyond 64.
        case overlongVarint
        /// A fixed-width or length-delimited value extends past the end of the input.
        case truncatedValue
        /// Field number 0 or above 2^29 − 1.
        case invalidFieldNumber
        /// Wire type 6 or 7.
        case invalidWireType(UInt8)
        /// Wire types 3/4 (deprecated groups), which these payloads never use.
        case groupsUnsupported
        /// The field is not of the wire type the accessor needs.
        case wrongWireType
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "protobuf: \(reason) at byte \(offset)" }
}

/// One field as it appears on the wire.
public struct ProtobufField: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case lengthDelimited(ArraySlice<UInt8>)
    }

    /// The field number (1 ... 2^29 − 1).
    public var number: Int
    public var value: Value

    /// A varint as unsigned (uint32/uint64, also enum and bool values).
    public var uint64: UInt64? {
        if case .varint(let v) = value { return v }
        return nil
    }

    /// A varint as int64/int32 (negative numbers are sign-extended 10-byte varints).
    public var int64: Int64? { uint64.map { Int64(bitPattern: $0) } }

    /// A zigzag-encoded varint (sint32/sint64).
    public var sint64: Int64? { uint64.map { Int64(bitPattern: $0 >> 1) ^ -Int64(bitPattern: $0 & 1) } }

    public var bool: Bool? { uint64.map { $0 != 0 } }

    /// Length-delimited content (bytes, string, nested message, packed repeated).
    public var bytes: ArraySlice<UInt8>? {
        if case .lengthDelimited(let b) = value { return b }
        return nil
    }

    /// Length-delimited content as UTF-8 text; nil if not length-delimited or not valid UTF-8.
    public var string: String? { bytes.flatMap { String(validating: $0, as: UTF8.self) } }

    /// A reader over a nested message.
    public var message: ProtobufReader? { bytes.map { ProtobufReader($0) } }

    /// The values of a packed repeated varint field (`[packed = true]`, the proto3 default). A single unpacked
    /// varint occurrence is returned as a one-element array, so callers handle both encodings.
    public func packedVarints() throws(ProtobufError) -> [UInt64] {
        switch value {
        case .varint(let v):
            return [v]
        case .lengthDelimited(let content):
            var reader = ProtobufReader(content)
            var values: [UInt64] = []
            while !reader.isAtEnd { values.append(try reader.readVarint()) }
            return values
        default:
            throw ProtobufError(.wrongWireType, offset: 0)
        }
    }
}

/// Reads protobuf fields one after another.
///
/// ```swift
/// var reader = ProtobufReader(bytes)
/// while let field = try reader.next() { if field.number == 1 { uid = field.int64 } }
/// ```
public struct ProtobufReader: Sendable {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    public init(_ bytes: [UInt8]) {
        self.init(bytes[...])
    }

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    public var isAtEnd: Bool { position >= bytes.endIndex }

    /// Offset of the next unread byte from the start of this reader's input.
    public var offset: Int { position - bytes.startIndex }

    /// The next field, or nil at the end of the input.
    public mutating func next() throws(ProtobufError) -> ProtobufField? {
        if isAtEnd { return nil }
        let start = offset
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else { throw ProtobufError(.invalidFieldNumber, offset: start) }
        let value: ProtobufField.Value
        switch UInt8(key & 7) {
        case 0:
            value = .varint(try readVarint())
        case 1:
            value = .fixed64(try readFixed(8))
        case 2:
            let lengthOffset = offset
            let length = try readVarint()
            guard length <= UInt64(bytes.endIndex - position) else {
                throw ProtobufError(.truncatedValue, offset: lengthOffset)
            }
            value = .lengthDelimited(bytes[position..<position + Int(length)])
            position += Int(length)
        case 5:
            value = .fixed32(UInt32(truncatingIfNeeded: try readFixed(4)))
        case 3, 4:
            throw ProtobufError(.groupsUnsupported, offset: start)
        case let other:
            throw ProtobufError(.invalidWireType(other), offset: start)
        }
        return ProtobufField(number: Int(number), value: value)
    }

    /// Reads one base-128 varint (at most 10 bytes).
    public mutating func readVarint() throws(ProtobufError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<10 {
            guard position < bytes.endIndex else { throw ProtobufError(.truncatedVarint, offset: start) }
            let byte = bytes[position]
            position += 1
            // The 10th byte holds only bit 63: anything more is an overlong (or corrupt) varint.
            if index == 9 && byte > 1 { throw ProtobufError(.overlongVarint, offset: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw ProtobufError(.overlongVarint, offset: start)
    }

    private mutating func readFixed(_ width: Int) throws(ProtobufError) -> UInt64 {
        guard bytes.endIndex - position >= width else { throw ProtobufError(.truncatedValue, offset: offset) }
        var value: UInt64 = 0
        for index in 0..<width { value |= UInt64(bytes[position + index]) << UInt64(8 * index) }
        position += width
        return value
    }
}
