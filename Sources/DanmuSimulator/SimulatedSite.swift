import DanmuClient
import DanmuCodecs
import EventLoop

/// The HTTP side of the live site as the simulator plays it: room_init, nav (WBI keys, login), finger/spi
/// (buvid3/buvid4), WBI-checked getDanmuInfo handing out tokens and a host list, and the room list. Each route
/// answers the JSON shape the live site does (docs/simulator.md, "HTTP API").
///
/// Thread-safe (one lock): the HTTP connections ask it on the loop thread, the danmaku AUTH check asks it there
/// too, tests change rooms and keys from theirs.
public final class SimulatedSite: Sendable {
    /// Knobs of the simulated site.
    public struct Configuration: Sendable, Equatable {
        /// Short ids (such as 76) and the long room they stand for; a long id maps to itself.
        public var shortIDs: [Int64: Int64] = [:]
        /// Rooms live at start; nil: every served room up to the first 1,000 of the room set.
        public var liveRooms: Set<Int64>?
        /// Test switch: after this many nav answers the WBI keys rotate once, so a client that signed with the
        /// keys it just fetched gets -352 and must fetch nav again. nil: keys never rotate by themselves.
        public var rotateWBIKeysAfterNavs: Int?

        public init() {}
    }

    /// One room as the room list shows it.
    public struct ListedRoom: Sendable, Equatable {
        public var roomID: Int64
        public var online: Int64
        public var areaID: Int64
        public var parentAreaID: Int64
    }

    private struct State {
        var keyGeneration: UInt64 = 1
        var signer: WBISigner
        var navAnswers = 0
        var live: Set<Int64>
        /// token → room it was issued for.
        var tokens: [String: Int64] = [:]
        var tokenCounter: UInt64 = 0
        var buvidCounter: UInt64 = 0
        var riskControlAnswers = 0
    }

    public let configuration: Configuration
    let rooms: RoomSet
    private let state: Lock<State>

    public init(configuration: Configuration = .init(), rooms: RoomSet) {
        self.configuration = configuration
        self.rooms = rooms
        let initial: Set<Int64>
        if let live = configuration.liveRooms {
            initial = live
        } else {
            switch rooms {
            case .ids(let set): initial = Set(set.sorted().prefix(1000))
            case .range(let range): initial = Set(range.prefix(1000))
            case .any: initial = Set(1...1000)
            }
        }
        state = Lock(State(signer: SimulatedSite.signer(generation: 1), live: initial))
    }

    // MARK: Controls (any thread)

    /// The signer whose keys nav hands out now (tests sign with it).
    public var currentSigner: WBISigner { state.withLock { $0.signer } }

    /// Replaces the WBI keys: every query signed with the old ones is answered -352 from now on.
    public func rotateWBIKeys() {
        state.withLock { state in
            state.keyGeneration += 1
            state.signer = SimulatedSite.signer(generation: state.keyGeneration)
        }
    }

    /// Marks a room live (listed, room_init `live_status` 1) or offline.
    public func setLive(_ room: Int64, _ live: Bool) {
        _ = state.withLock { live ? $0.live.insert(room).inserted : $0.live.remove(room) != nil }
    }

    /// The rooms live now.
    public var liveRooms: Set<Int64> { state.withLock { $0.live } }

    /// How many -352 answers were given (bad or missing WBI signature).
    public var riskControlAnswers: Int { state.withLock { $0.riskControlAnswers } }

    /// Whether `key` is a token getDanmuInfo handed out for `room`.
    public func accepts(token key: String?, room: Int64) -> Bool {
        guard let key else { return false }
        return state.withLock { $0.tokens[key] } == room
    }

    // MARK: Routes

    /// The long id of `room` (a short id is mapped), nil when the site does not know it.
    func longID(_ room: Int64) -> Int64? {
        let long = configuration.shortIDs[room] ?? room
        return rooms.contains(long) ? long : nil
    }

    /// `GET /room/v1/Room/room_init?id=`.
    func roomInit(_ query: [(String, String)]) -> [UInt8] {
        guard let id = SimulatedSite.int(query, "id"), let long = longID(id) else {
            return SimulatedSite.error(60004, "直播间不存在")
        }
        let live = state.withLock { $0.live.contains(long) }
        let short = configuration.shortIDs.first { $0.value == long }?.key ?? 0
        return SimulatedSite.ok { w in
            w.key("room_id")
            w.int(long)
            w.key("short_id")
            w.int(short)
            w.key("uid")
            w.int(SimulatedSite.anchorUID(long))
            w.key("live_status")
            w.int(live ? 1 : 0)
            w.key("is_locked")
            w.bool(false)
            w.key("encrypted")
            w.bool(false)
        }
    }

    /// `GET /x/frontend/finger/spi`: a fresh buvid3 (`b_3`) and buvid4 (`b_4`) per call.
    func fingerSPI() -> [UInt8] {
        let n = state.withLock { state -> UInt64 in
            state.buvidCounter += 1
            return state.buvidCounter
        }
        let hex = SimulatedSite.hex(seed: 0xB0B0 &+ n, count: 32).uppercased()
        let b3 = "\(hex.prefix(8))-\(hex.dropFirst(8).prefix(4))-SIMB-\(hex.dropFirst(12).prefix(4))-\(n)infoc"
        let b4 = "\(hex.dropFirst(16).prefix(8))-SIM4-\(hex.suffix(8))-\(n)-sim"
        return SimulatedSite.ok { w in
            w.key("b_3")
            w.string(b3)
            w.key("b_4")
            w.string(b4)
        }
    }

    /// `GET /x/web-interface/nav`: wbi_img always; `isLogin`/`mid` when the cookie has a SESSDATA (the mid is
    /// SESSDATA's leading digits, or 10001 when it has none). Logged out, the site answers -101 with data.
    func nav(cookie: String?) -> [UInt8] {
        let signer = state.withLock { state -> WBISigner in
            let current = state.signer
            state.navAnswers += 1
            if let rotate = configuration.rotateWBIKeysAfterNavs, state.navAnswers == rotate {
                state.keyGeneration += 1
                state.signer = SimulatedSite.signer(generation: state.keyGeneration)
            }
            return current
        }
        let session = SimulatedSite.cookieValue("SESSDATA", in: cookie)
        let mid: Int64? = session.map { value in Int64(String(value.prefix { $0.isNumber })) ?? 10001 }
        var w = JSONWriter()
        w.beginObject()
        w.key("code")
        w.int(mid == nil ? -101 : 0)
        w.key("message")
        w.string(mid == nil ? "账号未登录" : "0")
        w.key("ttl")
        w.int(1)
        w.key("data")
        w.beginObject()
        w.key("isLogin")
        w.bool(mid != nil)
        if let mid {
            w.key("mid")
            w.int(mid)
            w.key("uname")
            w.string("sim-user-\(mid)")
        }
        w.key("wbi_img")
        w.beginObject()
        w.key("img_url")
        w.string("https://i0.hdslb.com/bfs/wbi/\(signer.imgKey).png")
        w.key("sub_url")
        w.string("https://i0.hdslb.com/bfs/wbi/\(signer.subKey).png")
        w.endObject()
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// `GET /xlive/web-room/v1/index/getDanmuInfo?id=…&wts=…&w_rid=…`: -352 unless WBI-signed with the
    /// current keys; else a new token for the room and one host: the simulator's own ports.
    func danmuInfo(_ query: [(String, String)], addresses: SimulatorAddresses) -> [UInt8] {
        guard verify(query) else { return riskControl() }
        guard let id = SimulatedSite.int(query, "id"), let long = longID(id) else {
            return SimulatedSite.error(1_002_002, "房间不存在")
        }
        let token = state.withLock { state -> String in
            state.tokenCounter += 1
            let token =
                "sim-token-\(long)-\(state.tokenCounter)-" + SimulatedSite.hex(seed: state.tokenCounter, count: 16)
            state.tokens[token] = long
            return token
        }
        return SimulatedSite.ok { w in
            w.key("group")
            w.string("live")
            w.key("business_id")
            w.int(0)
            w.key("refresh_row_factor")
            w.double(0.125)
            w.key("refresh_rate")
            w.int(100)
            w.key("max_delay")
            w.int(5000)
            w.key("token")
            w.string(token)
            w.key("host_list")
            w.beginArray()
            w.beginObject()
            w.key("host")
            w.string(SimulatedSite.hostText(addresses.tcp))
            w.key("port")
            w.int(Int(addresses.tcp.port))
            if let ws = addresses.ws {
                w.key("ws_port")
                w.int(Int(ws.port))
            }
            if let wss = addresses.wss {
                w.key("wss_port")
                w.int(Int(wss.port))
            }
            w.endObject()
            w.endArray()
        }
    }

    /// `GET /xlive/web-interface/v1/second/getList?platform=web&parent_area_id=P&area_id=A&sort_type=online&page=N`
    /// (WBI-signed): live rooms by `online`, highest first, `page_size` (default 30, at most 30) per page.
    func roomList(_ query: [(String, String)]) -> [UInt8] {
        guard verify(query) else { return riskControl() }
        let parent = SimulatedSite.int(query, "parent_area_id") ?? 0
        let area = SimulatedSite.int(query, "area_id") ?? 0
        let page = max(1, SimulatedSite.int(query, "page") ?? 1)
        let size = Int(min(30, max(1, SimulatedSite.int(query, "page_size") ?? 30)))
        let all = listed(parentAreaID: parent, areaID: area)
        let start = min(all.count, Int(page - 1) * size)
        let slice = all[start..<min(all.count, start + size)]
        return SimulatedSite.ok { w in
            w.key("banner")
            w.beginArray()
            w.endArray()
            w.key("list")
            w.beginArray()
            for room in slice {
                w.beginObject()
                w.key("roomid")
                w.int(room.roomID)
                w.key("uid")
                w.int(SimulatedSite.anchorUID(room.roomID))
                w.key("title")
                w.string("simulated room \(room.roomID)")
                w.key("uname")
                w.string("anchor-\(room.roomID)")
                w.key("online")
                w.int(room.online)
                w.key("area_id")
                w.int(room.areaID)
                w.key("area_name")
                w.string("sim area \(room.areaID)")
                w.key("parent_id")
                w.int(room.parentAreaID)
                w.key("parent_name")
                w.string("sim parent \(room.parentAreaID)")
                w.endObject()
            }
            w.endArray()
            w.key("count")
            w.int(all.count)
            w.key("has_more")
            w.int(start + size < all.count ? 1 : 0)
        }
    }

    /// Live rooms of an area (0: every area), by `online` descending then room id. Room r is in area
    /// `r % 5 + 1` of parent area `r % 2 + 1`; its `online` falls with its id, so room 1 is the most popular.
    public func listed(parentAreaID: Int64 = 0, areaID: Int64 = 0) -> [ListedRoom] {
        let live = state.withLock { $0.live }
        return live.sorted().map { room in
            ListedRoom(
                roomID: room, online: max(1, 1_000_000 / room), areaID: room % 5 + 1, parentAreaID: room % 2 + 1)
        }.filter { room in
            (parentAreaID == 0 || room.parentAreaID == parentAreaID) && (areaID == 0 || room.areaID == areaID)
        }.sorted { $0.online != $1.online ? $0.online > $1.online : $0.roomID < $1.roomID }
    }

    private func verify(_ query: [(String, String)]) -> Bool {
        let signer = state.withLock { $0.signer }
        return signer.verifies(query)
    }

    private func riskControl() -> [UInt8] {
        state.withLock { $0.riskControlAnswers += 1 }
        var w = JSONWriter()
        w.beginObject()
        w.key("code")
        w.int(-352)
        w.key("message")
        w.string("-352")
        w.key("ttl")
        w.int(1)
        w.key("data")
        w.beginObject()
        w.key("v_voucher")
        w.string("voucher_simulated")
        w.endObject()
        w.endObject()
        return w.bytes
    }
}

extension SimulatedSite {
    /// Keys of one generation: 64 hex characters, stable per generation so runs are reproducible.
    static func signer(generation: UInt64) -> WBISigner {
        WBISigner(
            imgKey: hex(seed: generation &* 0x1000_0001, count: 32),
            subKey: hex(seed: generation &* 0x2000_0003 &+ 7, count: 32))!
    }

    /// `count` lowercase hex characters from a SplitMix64 stream seeded with `seed`.
    static func hex(seed: UInt64, count: Int) -> String {
        var x = seed
        let digits = Array("0123456789abcdef")
        var out = ""
        while out.count < count {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            for shift in stride(from: 0, to: 64, by: 4) where out.count < count {
                out.append(digits[Int((z >> UInt64(shift)) & 15)])
            }
        }
        return out
    }

    /// The dotted IPv4 text of an address (a 0.0.0.0 listener is reached on loopback).
    static func hostText(_ address: SocketAddress) -> String {
        let ip = address.ipv4 == 0 ? 0x7F00_0001 : address.ipv4
        return "\(ip >> 24).\((ip >> 16) & 0xFF).\((ip >> 8) & 0xFF).\(ip & 0xFF)"
    }

    static func anchorUID(_ room: Int64) -> Int64 { 100_000 + room }

    static func int(_ query: [(String, String)], _ name: String) -> Int64? {
        query.first { $0.0 == name }.flatMap { Int64($0.1) }
    }

    static func cookieValue(_ name: String, in cookie: String?) -> String? {
        guard let cookie else { return nil }
        for pair in cookie.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            guard let eq = trimmed.firstIndex(of: "="), trimmed[..<eq] == name else { continue }
            let value = trimmed[trimmed.index(after: eq)...]
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// `{"code":0,"message":"0","ttl":1,"data":{…}}` with `body` writing data's members.
    static func ok(_ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("code")
        w.int(0)
        w.key("message")
        w.string("0")
        w.key("msg")
        w.string("ok")
        w.key("ttl")
        w.int(1)
        w.key("data")
        w.beginObject()
        body(&w)
        w.endObject()
        w.endObject()
        return w.bytes
    }

    static func error(_ code: Int64, _ message: String) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("code")
        w.int(code)
        w.key("message")
        w.string(message)
        w.key("msg")
        w.string(message)
        w.key("data")
        w.beginObject()
        w.endObject()
        w.endObject()
        return w.bytes
    }
}
