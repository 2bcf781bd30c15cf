// libFuzzer target for the protobuf reader and base64: build with `Fuzz/build.sh protobuf`, run with
// `Fuzz/out/protobuf Fuzz/protobuf/seeds -max_total_time=600 -rss_limit_mb=2048`.
//
// For any input: reading fields (recursing into every length-delimited field as if it were a message, to a depth
// of 8, and reading it as packed varints) either succeeds or throws a ProtobufError, always making progress;
// base64 decoding of the input either throws or re-encodes to a string that decodes to the same bytes; and
// encode → decode of the raw input is the identity.

@testable import DanmuCodecs

private func walk(_ bytes: ArraySlice<UInt8>, depth: Int) -> Int {
    var reader = ProtobufReader(bytes)
    var fields = 0
    while true {
        let before = reader.offset
        guard let field = try? reader.next() else { break }
        if reader.offset <= before { fatalError("no progress") }
        fields += 1
        if let content = field.bytes, depth < 8 {
            fields += walk(content, depth: depth + 1)
            if let values = try? field.packedVarints(), values.count > content.count { fatalError("too many values") }
            _ = field.string
        }
        _ = field.sint64
    }
    return fields
}

@_cdecl("LLVMFuzzerTestOneInput")
public func protobufFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = walk(bytes[...], depth: 0)
    if let decoded = try? Base64.decode(bytes) {
        guard let again = try? Base64.decode(Base64.encode(decoded)), again == decoded else {
            fatalError("base64 re-encode mismatch")
        }
    }
    guard let back = try? Base64.decode(Base64.encode(bytes)), back == bytes else { fatalError("base64 round trip") }
    return 0
}
