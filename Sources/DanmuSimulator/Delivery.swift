/// Which connections of a room receive the room's messages.
public enum Delivery: String, Sendable, Equatable, CaseIterable {
    /// Each message goes to one connection: every authenticated connection pulls the next message of the room's
    /// sequence, so two connections of a room split it (the rate is per connection). The default, because the
    /// suite's accounting (messages sent = messages a client must see) was written for it.
    case oneConnection
    /// Like the live servers: the room emits its sequence on its own schedule (the rate is per room) and every
    /// connection receives, from the moment it authenticated, every message the room emits, in order, with the
    /// same bytes (the same id_str) as the others.
    case everyConnection
}
