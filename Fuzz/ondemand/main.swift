// libFuzzer target for the on-demand JSON reader (issue 11): `JSONOnDemand` and `DANMU_MSG` read on demand,
// against the strict full parser. Built by `Fuzz/build.sh ondemand` (separate modules, see modules.txt), run with
// `SWIFT_BACKTRACE=enable=no Fuzz/out/ondemand Fuzz/ondemand/seeds -dict=Fuzz/ondemand/ondemand.dict`.
//
// Invariants checked on every input (a violation traps):
// - validating by skipping (`skipValue` over the root, then nothing but whitespace) accepts exactly the texts the
//   strict parser accepts, at the same nesting limit;
// - `EventParser.parse` (on demand where it decides) and `EventParser.parseFully` (strict only) give the same
//   events, or both reject the message; also with the input behind a `{"cmd":"DANMU_MSG",` prefix (and
//   `{"cmd":"INTERACT_WORD","data":`, `{"cmd":"SEND_GIFT","data":`), so that the fuzzer explores every on-demand
//   reader from any seed.
import DanmuClient
import DanmuCodecs
import Glibc

private func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fputs("fuzz invariant failed: \(message())\n", stderr)
        abort()
    }
}

private func compareEventParsers(_ bytes: [UInt8]) {
    var fast: [DanmuEvent] = []
    var strict: [DanmuEvent] = []
    let fastOK = (try? EventParser.parse(message: bytes, into: &fast)) != nil
    let strictOK = bytes.withUnsafeBytes { (try? EventParser.parseFully(message: $0, into: &strict)) != nil }
    check(fastOK == strictOK, "on-demand accepted: \(fastOK), strict accepted: \(strictOK)")
    check(fast == strict, "events differ: \(fast) vs \(strict)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for depth in [3, 64] {
        let strict = (try? JSONDocument(parsing: bytes, maxDepth: depth)) != nil
        let skipped = bytes.withUnsafeBytes { raw -> Bool in
            guard let json = JSONOnDemand(raw, maxDepth: depth) else { return false }
            return json.isDocumentEnd(json.skipValue(json.rootStart, depth: 0))
        }
        check(strict == skipped, "maxDepth \(depth): strict accepted \(strict), skipping accepted \(skipped)")
    }
    compareEventParsers(bytes)
    compareEventParsers(Array(#"{"cmd":"DANMU_MSG","#.utf8) + bytes)
    compareEventParsers(Array(#"{"cmd":"INTERACT_WORD","data":"#.utf8) + bytes)
    compareEventParsers(Array(#"{"cmd":"SEND_GIFT","data":"#.utf8) + bytes)
    return 0
}
