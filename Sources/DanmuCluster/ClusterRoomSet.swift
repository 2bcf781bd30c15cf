import DanmuPipeline

/// Reads and edits a cluster's room set (`danmu-cli rooms add|remove|list`). Every edit also INCRs the version
/// key in the same round trip, which is what running nodes poll.
public struct ClusterRoomSet: Sendable {
    private let client: RedisCommandClient
    public let keys: ClusterKeys

    public init(client: RedisCommandClient, keys: ClusterKeys = try! ClusterKeys()) {
        self.client = client
        self.keys = keys
    }

    /// Adds rooms; returns how many were new.
    @discardableResult
    public func add(_ rooms: [Int64]) throws(ClusterError) -> Int {
        try edit("SADD", rooms)
    }

    /// Removes rooms; returns how many were there.
    @discardableResult
    public func remove(_ rooms: [Int64]) throws(ClusterError) -> Int {
        try edit("SREM", rooms)
    }

    /// The room ids, ascending.
    public func list() throws(ClusterError) -> [Int64] {
        let reply = try run([["SMEMBERS", keys.rooms]])[0]
        guard case .array(let members?) = reply else { throw .redis("SMEMBERS answered \(reply)") }
        var rooms: [Int64] = []
        for member in members {
            guard let text = ClusterCoordinator.text(member), let room = Int64(text), room > 0 else {
                throw .badRoom(ClusterCoordinator.text(member) ?? "\(member)")
            }
            rooms.append(room)
        }
        return rooms.sorted()
    }

    /// Each room's lease holder (node id, `handoff:<id>`, or nil when nobody holds it).
    public func owners(of rooms: [Int64]) throws(ClusterError) -> [Int64: String?] {
        guard !rooms.isEmpty else { return [:] }
        let reply = try run([["MGET"] + rooms.map(keys.lease)])[0]
        guard case .array(let values?) = reply, values.count == rooms.count else {
            throw .redis("MGET answered \(reply)")
        }
        var owners: [Int64: String?] = [:]
        for (room, value) in zip(rooms, values) { owners[room] = ClusterCoordinator.text(value) }
        return owners
    }

    private func edit(_ command: String, _ rooms: [Int64]) throws(ClusterError) -> Int {
        guard !rooms.isEmpty else { return 0 }
        let replies = try run([[command, keys.rooms] + rooms.map { String($0) }, ["INCR", keys.roomsVersion]])
        guard case .integer(let changed) = replies[0] else { throw .redis("\(command) answered \(replies[0])") }
        return Int(changed)
    }

    private func run(_ commands: [[String]]) throws(ClusterError) -> [RESPValue] {
        let replies: [RESPValue]
        do throws(PipelineError) {
            replies = try client.run(commands)
        } catch {
            throw .redis(error.description)
        }
        for reply in replies {
            if case .error(let message) = reply { throw .redis(message) }
        }
        return replies
    }
}
