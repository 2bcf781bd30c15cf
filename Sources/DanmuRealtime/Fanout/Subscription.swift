import DanmuClient

/// What one subscriber wants: which rooms, which kinds of event, and where to resume.
///
/// From the query of `GET /events` or `GET /ws`: `?rooms=1,2&kinds=danmaku,gift&since=<event id>`, or the
/// `Last-Event-ID` header a browser's `EventSource` sends when it reconnects (see `EventID`).
public struct Subscription: Sendable, Equatable {
    /// At most this many rooms in one subscription (`rooms=`), so one request cannot make the hub build a huge set.
    public static let maxRooms = 1_000

    /// The rooms to deliver (long room ids); nil = every room.
    public var rooms: Set<Int64>?
    /// The kinds to deliver (`EventKind`, named as in JSON Lines: `danmaku`, `gift`, `super_chat`, …); nil = all.
    public var kinds: Set<EventKind>?
    /// Replay every held event after this one before the live events; nil = live events only.
    public var resumeAfter: EventID?

    public init(rooms: Set<Int64>? = nil, kinds: Set<EventKind>? = nil, resumeAfter: EventID? = nil) {
        self.rooms = rooms
        self.kinds = kinds
        self.resumeAfter = resumeAfter
    }

    /// Whether an event of `room` and `kind` is for this subscriber.
    @inline(__always)
    public func matches(room: Int64, kind: EventKind) -> Bool {
        if let rooms, !rooms.contains(room) { return false }
        if let kinds, !kinds.contains(kind) { return false }
        return true
    }

    /// Reads `rooms`, `kinds` and `since` from an already percent-decoded query, and the `Last-Event-ID` header.
    ///
    /// - `rooms`: comma-separated positive room ids, at most `maxRooms` distinct ones; absent = every room.
    /// - `kinds`: comma-separated `EventKind` names; absent = every kind.
    /// - `since`: an `EventID`. `Last-Event-ID`, when present and not empty, wins over `since`: a reconnecting
    ///   `EventSource` repeats the original URL (with its old `since`) but sends the newest id in the header.
    /// A parameter given twice is merged (`rooms=1&rooms=2` is `rooms=1,2`; the last `since` wins). Other parameters
    /// are ignored (they belong to the HTTP layer).
    public static func parse(query: [(name: String, value: String)], lastEventID: String?) throws(SubscriptionError)
        -> Subscription
    {
        var subscription = Subscription()
        for (name, value) in query {
            switch name {
            case "rooms":
                var rooms = subscription.rooms ?? []
                try parseRooms(value, into: &rooms)
                subscription.rooms = rooms
            case "kinds":
                var kinds = subscription.kinds ?? []
                try parseKinds(value, into: &kinds)
                subscription.kinds = kinds
            case "since":
                guard let id = EventID(value) else {
                    throw SubscriptionError(parameter: "since", value: value, problem: "is not an event id")
                }
                subscription.resumeAfter = id
            default:
                continue
            }
        }
        if let header = lastEventID, !header.isEmpty {
            guard let id = EventID(header) else {
                throw SubscriptionError(parameter: "Last-Event-ID", value: header, problem: "is not an event id")
            }
            subscription.resumeAfter = id
        }
        return subscription
    }

    /// Adds the ids of a `rooms` value to `rooms`, checking each and the total.
    static func parseRooms(_ value: String, into rooms: inout Set<Int64>) throws(SubscriptionError) {
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            let digits = Array(item.utf8)
            guard let number = EventID.parseNumber(digits[...]), number > 0, number <= UInt64(Int64.max)
            else {
                throw SubscriptionError(
                    parameter: "rooms", value: value, problem: "holds \(quoted(String(item))), not a room id")
            }
            rooms.insert(Int64(number))
            if rooms.count > maxRooms {
                throw SubscriptionError(
                    parameter: "rooms", value: value, problem: "names more than \(maxRooms) rooms")
            }
        }
    }

    /// Adds the kinds of a `kinds` value to `kinds`.
    static func parseKinds(_ value: String, into kinds: inout Set<EventKind>) throws(SubscriptionError) {
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let kind = EventKind(rawValue: String(item)) else {
                let known = EventKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw SubscriptionError(
                    parameter: "kinds", value: value,
                    problem: "holds the unknown kind \(quoted(String(item))) (known: \(known))")
            }
            kinds.insert(kind)
        }
    }
}

/// A query parameter or header of a subscription request that cannot be used. `description` is meant for the body
/// of a 400 response: it names the parameter, quotes the value (shortened, control bytes escaped) and says why.
public struct SubscriptionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `rooms`, `kinds`, `since`, `Last-Event-ID`, or (for a WebSocket subscribe message) `message`.
    public var parameter: String
    /// The value as received.
    public var value: String
    /// What is wrong with it, e.g. `holds "x", not a room id`.
    public var problem: String

    public init(parameter: String, value: String, problem: String) {
        self.parameter = parameter
        self.value = value
        self.problem = problem
    }

    /// e.g. `bad rooms "1,x": holds "x", not a room id`.
    public var description: String { "bad \(parameter) \(quoted(value)): \(problem)" }
}

/// At most 80 scalars in quotes, control characters escaped as `\xNN`: the text came from the network.
func quoted(_ text: String) -> String {
    var out = "\""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == 80 {
            out += "…"
            break
        }
        if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\"" || scalar == "\\" {
            out += scalar.value < 0x20 || scalar.value == 0x7F ? "\\x\(String(scalar.value, radix: 16))" : "\\\(scalar)"
        } else {
            out.unicodeScalars.append(scalar)
        }
        count += 1
    }
    return out + "\""
}
