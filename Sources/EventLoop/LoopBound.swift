/// Carries a loop-confined value (a handler, a session) through `@Sendable` closures, like SwiftNIO's
/// `NIOLoopBound`: the value may only be touched on the reactor's IO thread, which every access checks (trap).
///
///     let session = LoopBound(self, reactor: reactor)
///     pool.queue.enqueue(cost: n) { reactor.execute { session.value.resume() } }
public struct LoopBound<Value>: @unchecked Sendable {
    /// The reactor whose IO thread owns the value.
    public let reactor: Reactor
    private var storage: Value

    /// Wraps `value`. Whoever creates it hands the value over: it must not use it off-loop afterwards.
    public init(_ value: Value, reactor: Reactor) {
        self.reactor = reactor
        self.storage = value
    }

    /// The value; traps unless called on the reactor's IO thread.
    public var value: Value {
        get {
            reactor.assertInLoop()
            return storage
        }
        set {
            reactor.assertInLoop()
            storage = newValue
        }
    }
}
