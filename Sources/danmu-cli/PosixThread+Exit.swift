import EventLoop
import Glibc

extension PosixThread {
    /// Starts one of the CLI's few long-lived threads (output, signals, benchmark producers). Without it the
    /// command cannot run: a failure ends it with the reason (exit 1), never a trap.
    @discardableResult
    static func startOrExit(name: String, _ body: @escaping @Sendable () -> Void) -> PosixThread {
        do {
            return try PosixThread.spawn(name: name, body)
        } catch {
            StandardError.print("danmu-cli: cannot start the \(name) thread: \(error)")
            exit(1)
        }
    }
}
