/// The live page served at `/`: HTML, CSS and plain JavaScript embedded in the binary, no build step and no
/// external resource (no CDN, font or image from elsewhere), so it works with nothing but this process.
///
/// What it shows and what it calls:
/// - a rooms table (`#rooms`, the table body) from `GET /rooms` (`RoomsDocument`) polled every second: room id,
///   state (live, connecting, backing off, …), transport, masked mode, events, messages per second from the
///   counter deltas, alarm flags and the last error. A click on a row adds or removes the room from the feed;
/// - a live chart (`#chart`, a canvas) of total and selected rooms' messages per second, last 120 polls;
/// - a feed (`#feed`, the last 500 lines) of danmaku, gifts and super chats of the chosen rooms from
///   `EventSource('/events?rooms=…&kinds=danmaku,gift,super_chat')`, each event a JSON Lines object; an
///   `event: gap` SSE event (the hub's `{"type":"gap","reason":…,"missed":…,"rooms":[…]}`) is shown as a line
///   of its own (`.gap`) saying how many events were missed, why, and in which rooms;
/// - a filter box (`#filter`) that hides feed lines not containing its text, a room box (`#room-input`, ids
///   separated by commas or spaces, applied with Enter or `#watch`) and a status line (`#status`).
///
/// Rooms are chosen by `?rooms=1,2` in the page's URL, the room box or clicks; with none chosen the page follows
/// every room of its first `/rooms` poll (at most 50). All text from the server goes through `textContent`,
/// never `innerHTML`. For tests, `window.danmuPage` exposes counters (`polls`, `feedLines`, `gaps`,
/// `chartPoints`, `rooms`, `streamOpen`) and the chart's line colours (`colors.total`, `colors.selected`).
public enum LivePage {
    /// The content type of `html`.
    public static let contentType = "text/html; charset=utf-8"

    /// The page itself, served at `/`.
    public static let html: [UInt8] = Array(LivePageMarkup.html.utf8)

    /// Every embedded asset by request path: `/` (the page), `/app.js` and `/style.css`. Nothing else is served
    /// from here; a path missing from this table is a 404.
    public static let assets: [String: (contentType: String, body: [UInt8])] = [
        "/": (contentType: contentType, body: html),
        "/app.js": (contentType: "text/javascript; charset=utf-8", body: Array(LivePageScript.source.utf8)),
        "/style.css": (contentType: "text/css; charset=utf-8", body: Array(LivePageStyle.source.utf8)),
    ]
}

/// The page's HTML: the skeleton the script fills. Stable ids: `#rooms`, `#feed`, `#chart`, `#filter`, `#status`.
enum LivePageMarkup {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>danmu live</title>
        <link rel="stylesheet" href="/style.css">
        </head>
        <body>
        <header>
          <h1>danmu live</h1>
          <span id="status" role="status">starting…</span>
        </header>
        <main>
          <section id="rooms-panel">
            <h2>Rooms <small id="totals"></small></h2>
            <form id="room-form" autocomplete="off">
              <input id="room-input" type="text" placeholder="room ids, e.g. 1, 2" aria-label="rooms to watch">
              <button id="watch" type="submit">watch</button>
            </form>
            <table>
              <thead>
                <tr><th>room</th><th>state</th><th>transport</th><th>masked</th><th>events</th><th>msg/s</th>
                <th>alarms</th><th>last error</th></tr>
              </thead>
              <tbody id="rooms"></tbody>
            </table>
          </section>
          <section id="chart-panel">
            <h2>Messages per second <small><span class="key total">total</span>
            <span class="key selected">selected</span> <span id="chart-max"></span></small></h2>
            <canvas id="chart" width="640" height="180" aria-label="messages per second"></canvas>
          </section>
          <section id="feed-panel">
            <h2>Feed <small id="feed-rooms"></small></h2>
            <input id="filter" type="search" placeholder="filter the feed" aria-label="filter the feed">
            <div id="feed" aria-live="polite"></div>
          </section>
        </main>
        <script src="/app.js"></script>
        </body>
        </html>

        """#
}
