/// Which transport a room's next connection uses: the configured one, or `auto`'s rule (TCP, the cheapest,
/// until `fallbackAfter` attempts in a row failed before going live; then wss for the rest of the room's life).
///
/// Why sticky: a host that refuses or drops raw TCP during auth (the case issue 15 names: TCP cut or sampled)
/// does so for every attempt, and trying TCP again after each wss success would cost a failed attempt, a
/// backoff pause and a gap in the room's messages every time. Pure value, loop-confined with its session.
struct TransportChoice {
    private(set) var current: TransportStack.Kind
    private let isAuto: Bool
    private let fallbackAfter: Int
    private var failuresBeforeLive = 0

    init(_ transport: DanmuCollector.Configuration.Transport, fallbackAfter: Int) {
        switch transport {
        case .tcp, .auto: current = .tcp
        case .ws: current = .ws
        case .wss: current = .wss
        }
        isAuto = transport == .auto
        self.fallbackAfter = max(1, fallbackAfter)
    }

    /// An attempt failed before its room went live (connect refused or timed out, closed or rejected during
    /// the handshake or auth). Returns true when this moved the room from TCP to wss.
    mutating func attemptFailedBeforeLive() -> Bool {
        guard isAuto, current == .tcp else { return false }
        failuresBeforeLive += 1
        guard failuresBeforeLive >= fallbackAfter else { return false }
        current = .wss
        return true
    }

    /// The room went live: the failures so far were not a pattern.
    mutating func wentLive() { failuresBeforeLive = 0 }
}
