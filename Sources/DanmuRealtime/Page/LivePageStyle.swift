/// The live page's stylesheet, served at `/style.css`. System fonts only: the page loads nothing from elsewhere.
enum LivePageStyle {
    static let source = #"""
        :root { --bg: #fbfbfd; --fg: #1d1d22; --muted: #6b6b78; --line: #dcdce4; --live: #1f8a4c;
          --warn: #b45f06; --bad: #b3261e; --total: #2e7dd7; --selected: #d9480f; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
        header { display: flex; align-items: baseline; gap: 1em; padding: .5em 1em; border-bottom: 1px solid var(--line); }
        h1 { font-size: 1.2em; margin: 0; }
        h2 { font-size: 1em; margin: .2em 0 .4em; }
        small { color: var(--muted); font-weight: normal; }
        #status { color: var(--muted); }
        #status.error { color: var(--bad); }
        main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1em; padding: 1em; }
        #rooms-panel { grid-column: 1; grid-row: 1 / span 2; overflow: auto; max-height: 90vh; }
        #chart-panel, #feed-panel { grid-column: 2; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: .15em .5em; border-bottom: 1px solid var(--line); white-space: nowrap; }
        td.number { text-align: right; }
        tbody tr { cursor: pointer; }
        tbody tr:hover { background: #eef0f6; }
        tr.chosen { background: #e3ecfa; }
        .state-live { color: var(--live); }
        .state-connecting { color: var(--warn); }
        .state-backing-off, .state-given-up { color: var(--bad); }
        .alarm-text { color: var(--bad); }
        .alarm { color: #fff; background: var(--bad); border-radius: 3px; padding: 0 .3em; margin-right: .2em; }
        td.error { color: var(--muted); max-width: 20em; overflow: hidden; text-overflow: ellipsis; }
        #room-form { display: flex; gap: .4em; margin-bottom: .5em; }
        #room-input { flex: 1; }
        canvas { width: 100%; height: auto; border: 1px solid var(--line); background: #fff; }
        .key.total { color: var(--total); }
        .key.selected { color: var(--selected); }
        #filter { width: 100%; margin-bottom: .4em; }
        #feed { height: 55vh; overflow-y: auto; border: 1px solid var(--line); background: #fff; padding: .3em;
          font-size: 13px; }
        #feed div { white-space: pre-wrap; overflow-wrap: anywhere; }
        #feed .room { color: var(--muted); margin-right: .4em; }
        #feed .gift { color: #7b4397; }
        #feed .super_chat { color: var(--selected); font-weight: 600; }
        #feed .gap { color: var(--bad); font-style: italic; }
        @media (max-width: 900px) { main { grid-template-columns: 1fr; }
          #rooms-panel, #chart-panel, #feed-panel { grid-column: 1; grid-row: auto; } }

        """#
}
