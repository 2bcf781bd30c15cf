import DanmuCodecs

/// One room of the live site's room list (`xlive/web-interface/v1/second/getList`).
public struct LiveRoomListing: Sendable, Equatable {
    /// The long room id.
    public var roomID: Int64
    /// The popularity the list is sorted by (`online`).
    public var online: Int64
    public var areaID: Int64
    public var parentAreaID: Int64
    public var title: String

    public init(roomID: Int64, online: Int64, areaID: Int64, parentAreaID: Int64, title: String) {
        self.roomID = roomID
        self.online = online
        self.areaID = areaID
        self.parentAreaID = parentAreaID
        self.title = title
    }
}

extension RoomResolver {
    /// The live site's rooms live now, most popular first: WBI-signed pages of
    /// `/xlive/web-interface/v1/second/getList?platform=web&parent_area_id=…&area_id=…&sort_type=online&page=N`
    /// (30 rooms a page) until `top` rooms or the last page. Every page goes through the shared pacer and the
    /// retry policy of the other requests (-352 drops the WBI keys and re-fetches nav).
    ///
    /// - Parameters:
    ///   - parentAreaID: the parent area (分区) to list; 0 lists every area.
    ///   - areaID: a sub-area of it; 0 for all of them.
    public func liveRooms(top: Int, parentAreaID: Int64 = 0, areaID: Int64 = 0) throws(ResolveError)
        -> [LiveRoomListing]
    {
        _ = ensureBuvid()
        var rooms: [LiveRoomListing] = []
        var seen = Set<Int64>()
        var page = 1
        while rooms.count < top {
            let (listed, hasMore) = try withRetries { () throws(ResolveError) in
                try fetchRoomListPage(page, parentAreaID: parentAreaID, areaID: areaID)
            }
            for room in listed where rooms.count < top && seen.insert(room.roomID).inserted { rooms.append(room) }
            guard hasMore, !listed.isEmpty else { break }
            page += 1
        }
        return rooms
    }

    /// One page of the room list and whether more follow.
    func fetchRoomListPage(_ page: Int, parentAreaID: Int64, areaID: Int64) throws(ResolveError)
        -> ([LiveRoomListing], Bool)
    {
        let signer = try signer()
        let query = signer.signedQuery(
            [
                ("platform", "web"), ("parent_area_id", String(parentAreaID)), ("area_id", String(areaID)),
                ("sort_type", "online"), ("page", String(page)), ("web_location", "444.43"),
            ],
            wts: RoomResolver.unixSeconds())
        let url = configuration.liveAPIBase + "/xlive/web-interface/v1/second/getList?" + query
        let document = try getJSON(url, cookie: cookieHeader(buvid: currentBuvid.buvid3))
        let data = try envelope(document.root, url: url, notFound: [], room: 0)
        var rooms: [LiveRoomListing] = []
        for index in 0..<(data["list"]?.count ?? 0) {
            guard let entry = data["list"]?[index], let id = entry["roomid"]?.int64Lenient, id > 0 else { continue }
            rooms.append(
                LiveRoomListing(
                    roomID: id, online: entry["online"]?.int64Lenient ?? 0,
                    areaID: entry["area_id"]?.int64Lenient ?? 0,
                    parentAreaID: entry["parent_id"]?.int64Lenient ?? 0, title: entry["title"]?.string ?? ""))
        }
        let hasMore = (data["has_more"]?.int64Lenient ?? 0) != 0 || data["has_more"]?.bool == true
        return (rooms, hasMore)
    }
}
