/// The open subscribers of a hub, indexed by room so a drain visits only the subscribers of the rooms it carries
/// (plus those of every room): with thousands of viewers each watching one of thousands of rooms, scanning every
/// subscriber for every drain would cost subscribers × events. Loop-confined (a value owned by the `EventHub`).
struct SubscriberTable {
    private(set) var byID: [SubscriberID: Subscriber] = [:]
    /// Subscribers with `rooms == nil`.
    private var everyRoom: [SubscriberID: Subscriber] = [:]
    /// Subscribers naming a room, under each room they name.
    private var byRoom: [Int64: [SubscriberID: Subscriber]] = [:]
    /// Numbers each `candidates` call, so a subscriber of several rooms is returned once.
    private var visit: UInt64 = 0

    var count: Int { byID.count }

    subscript(id: SubscriberID) -> Subscriber? { byID[id] }

    mutating func insert(_ subscriber: Subscriber) {
        byID[subscriber.id] = subscriber
        index(subscriber)
    }

    @discardableResult
    mutating func remove(_ id: SubscriberID) -> Subscriber? {
        guard let subscriber = byID.removeValue(forKey: id) else { return nil }
        unindex(subscriber)
        return subscriber
    }

    /// Changes what `subscriber` receives, moving it in the index.
    mutating func update(_ subscriber: Subscriber, to subscription: Subscription) {
        unindex(subscriber)
        subscriber.subscription = subscription
        index(subscriber)
    }

    mutating func removeAll() {
        byID = [:]
        everyRoom = [:]
        byRoom = [:]
    }

    /// The open subscribers that may match some of `events` (each once): those of every room, then those of the
    /// rooms the events belong to. An array, so callbacks that close subscribers while the caller walks it are safe.
    mutating func candidates(for events: [PublishedEvent]) -> [Subscriber] {
        visit &+= 1
        var result: [Subscriber] = []
        result.reserveCapacity(everyRoom.count)
        for subscriber in everyRoom.values where subscriber.isOpen { result.append(subscriber) }
        guard !byRoom.isEmpty else { return result }
        var lastRoom: Int64?
        for event in events where event.room != lastRoom {
            // Consecutive events of one room (the usual batch) look the room up once.
            lastRoom = event.room
            guard let subscribers = byRoom[event.room] else { continue }
            for subscriber in subscribers.values where subscriber.isOpen && subscriber.visit != visit {
                subscriber.visit = visit
                result.append(subscriber)
            }
        }
        return result
    }

    private mutating func index(_ subscriber: Subscriber) {
        guard let rooms = subscriber.subscription.rooms else {
            everyRoom[subscriber.id] = subscriber
            return
        }
        for room in rooms { byRoom[room, default: [:]][subscriber.id] = subscriber }
    }

    private mutating func unindex(_ subscriber: Subscriber) {
        guard let rooms = subscriber.subscription.rooms else {
            everyRoom[subscriber.id] = nil
            return
        }
        for room in rooms {
            byRoom[room]?[subscriber.id] = nil
            if byRoom[room]?.isEmpty == true { byRoom[room] = nil }
        }
    }
}
