import DanmuClient

/// A handler that gives every batch to two handlers in turn: the collector's usual output first, then the
/// realtime hub (`collector.setHandler(EventTee(printer, hub))`). Runs on the room's worker like either would.
public struct EventTee: DanmuHandler {
    public let first: any DanmuHandler
    public let second: any DanmuHandler

    public init(_ first: any DanmuHandler, _ second: any DanmuHandler) {
        self.first = first
        self.second = second
    }

    public func handle(batch: [RoomEvent]) {
        first.handle(batch: batch)
        second.handle(batch: batch)
    }
}
