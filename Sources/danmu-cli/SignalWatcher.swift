import EventLoop
import Glibc

/// SIGINT/SIGTERM handling with a dedicated `sigwait` thread.
///
/// `blockTerminationSignals()` runs first thing in `main`, before any thread exists, so every thread the
/// process ever starts (reactor, workers, sink) inherits the blocked mask and no signal interrupts a
/// syscall in the middle of the IO loop. The watcher thread then takes the signals synchronously and turns
/// them into ordinary calls: the first SIGINT or SIGTERM asks for a graceful stop, a second SIGINT exits at
/// once with status 130. A thread is used instead of the reactor's signalfd because `decode` and the
/// shutdown phase have no reactor running.
enum SignalWatcher {
    private static let watched: [Int32] = [SIGINT, SIGTERM]

    /// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread created later). SIGPIPE is
    /// ignored: a closed stdout shows up as EPIPE from write(2) and ends the command cleanly.
    static func blockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in watched { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        Glibc.signal(SIGPIPE, SIG_IGN)
    }

    /// Starts the watcher thread. `onStop` runs (on the watcher thread) for the first SIGINT/SIGTERM;
    /// later SIGTERMs are ignored, a later SIGINT ends the process immediately.
    static func start(onStop: @escaping @Sendable (Int32) -> Void) {
        PosixThread.startOrExit(name: "danmu-signals") {
            var set = sigset_t()
            sigemptyset(&set)
            for signal in watched { sigaddset(&set, signal) }
            var stopping = false
            while true {
                var received: Int32 = 0
                guard sigwait(&set, &received) == 0 else { continue }
                if !stopping {
                    stopping = true
                    onStop(received)
                } else if received == SIGINT {
                    StandardError.print("danmu-cli: second interrupt, exiting without flushing")
                    _exit(130)
                }
            }
        }
    }
}

/// A one-shot "stop now" latch the main thread waits on, with a timeout for periodic work (status line).
final class StopLatch: Sendable {
    /// The first reason given; nil until triggered.
    private let reason = ConditionLock<String?>(nil)

    /// Records the first reason; later calls are ignored.
    func trigger(_ why: String) {
        reason.withLock { if $0 == nil { $0 = why } }
        reason.broadcast()
    }

    var triggeredReason: String? { reason.withLock { $0 } }

    /// Waits until triggered or until the monotonic deadline; returns the reason if triggered.
    func wait(untilMonotonic deadline: UInt64) -> String? {
        reason.withLock(waitingUntil: { $0 != nil }, deadline: deadline) { value, _ in value }
    }
}

extension Int32 {
    /// "SIGINT" / "SIGTERM" for messages.
    var signalName: String {
        switch self {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(self)"
        }
    }
}
