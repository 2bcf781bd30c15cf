/// The live page's script, served at `/app.js`: plain JavaScript (no framework, no build step).
///
/// Every string that came from the server is put into the page with `textContent` or `createTextNode`, never
/// `innerHTML`: a danmaku is user input from the internet. The feed keeps its last `FEED_LIMIT` lines so a busy
/// room cannot grow the page without bound, and a hidden tab keeps at most that many too.
enum LivePageScript {
    static let source = #"""
        'use strict';
        (function () {
          const FEED_LIMIT = 500, CHART_POINTS = 120, POLL_MS = 1000, AUTO_ROOMS = 50;
          const KINDS = 'danmaku,gift,super_chat';
          const STATES = { live: 'live', idle: 'idle', resolving: 'connecting', connecting: 'connecting',
            authenticating: 'connecting', backoff: 'backing off', 'given-up': 'given up', removed: 'removed' };
          const colors = { total: '#2e7dd7', selected: '#d9480f', grid: '#e4e4ec', text: '#6b6b78' };
          const $ = (id) => document.getElementById(id);
          const roomsBody = $('rooms'), feed = $('feed'), chart = $('chart'), filter = $('filter'), status = $('status');
          const page = window.danmuPage = { polls: 0, pollErrors: 0, feedLines: 0, gaps: 0, chartPoints: 0,
            rooms: 0, streamOpen: false, selected: [], colors: colors };
          let selected = new Set(), chosenByUser = false, source = null, previous = null, lastRates = new Map();
          const history = { total: [], selected: [] };

          function parseRooms(text) {
            return Array.from(new Set(String(text).split(/[\s,]+/).filter((s) => /^\d+$/.test(s)).map(Number)));
          }
          function setStatus(text, isError) {
            status.textContent = text;
            status.classList.toggle('error', !!isError);
          }
          function element(tag, text, className) {
            const node = document.createElement(tag);
            if (text !== undefined && text !== null) node.textContent = String(text);
            if (className) node.className = className;
            return node;
          }

          // ---- room choice and the event stream ----
          function choose(rooms, byUser) {
            selected = new Set(rooms);
            if (byUser) chosenByUser = true;
            page.selected = Array.from(selected).sort((a, b) => a - b);
            $('room-input').value = page.selected.join(', ');
            $('feed-rooms').textContent = page.selected.length ? 'rooms ' + page.selected.join(', ') : 'no room chosen';
            for (const row of roomsBody.rows) row.classList.toggle('chosen', selected.has(Number(row.dataset.room)));
            openStream();
          }
          function openStream() {
            if (source) { source.close(); source = null; page.streamOpen = false; }
            if (!selected.size) return;
            const url = '/events?rooms=' + page.selected.join(',') + '&kinds=' + KINDS;
            source = new EventSource(url);
            source.onopen = () => { page.streamOpen = true; setStatus('streaming ' + page.selected.length + ' room(s)'); };
            source.onerror = () => { page.streamOpen = false; setStatus('event stream interrupted, reconnecting…', true); };
            source.onmessage = (message) => {
              let event;
              try { event = JSON.parse(message.data); } catch (e) { return; }
              addEventLine(event);
            };
            source.addEventListener('gap', (message) => { page.gaps++; addGapLine(message.data); });
          }
          $('room-form').addEventListener('submit', (e) => { e.preventDefault(); choose(parseRooms($('room-input').value), true); });
          roomsBody.addEventListener('click', (e) => {
            const row = e.target.closest('tr');
            if (!row) return;
            const room = Number(row.dataset.room), next = new Set(selected);
            if (next.has(room)) next.delete(room); else next.add(room);
            choose(next, true);
          });

          // ---- the feed ----
          function describe(event) {
            switch (event.kind) {
              case 'danmaku': return (event.uname || '?') + ': ' + (event.text || '');
              case 'gift': return (event.uname || '?') + ' ' + (event.action || 'sent') + ' ' + (event.gift_name || 'a gift') +
                ' ×' + (event.num || 1);
              case 'super_chat': return '¥' + (event.price || 0) + ' ' + (event.uname || '?') + ': ' + (event.message || '');
              default: return event.kind + ' ' + (event.cmd || '');
            }
          }
          function matches(line) {
            const text = filter.value.trim().toLowerCase();
            return !text || line.textContent.toLowerCase().includes(text);
          }
          function append(line) {
            const atBottom = feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 4;
            line.hidden = !matches(line);
            feed.appendChild(line);
            while (feed.childElementCount > FEED_LIMIT) feed.firstElementChild.remove();
            page.feedLines = feed.childElementCount;
            if (atBottom) feed.scrollTop = feed.scrollHeight;
          }
          function addEventLine(event) {
            const line = element('div', null, 'line ' + String(event.kind || 'unknown').replace(/[^a-z_]/g, ''));
            line.dataset.kind = String(event.kind || '');
            line.dataset.room = String(event.room || '');
            line.appendChild(element('span', '[' + event.room + ']', 'room'));
            line.appendChild(document.createTextNode(describe(event)));
            append(line);
          }
          // The hub's gap object: {"type":"gap","reason":"slow","missed":12,"rooms":[{"room":1,"missed":9},…]}
          // (missed null = unknown, rooms null = every room); anything else is shown as key=value pairs.
          const REASONS = { slow: 'slow: skipped to the newest', history: 'older than the history kept',
            replay_limit: 'replay cut to the newest', restart: 'the server restarted' };
          function describeGap(gap) {
            if (!gap || typeof gap !== 'object') return String(gap);
            if (gap.type !== 'gap') return Object.keys(gap).map((key) => key + '=' + JSON.stringify(gap[key])).join(' ');
            const count = (n) => (n === null || n === undefined ? '?' : String(n));
            let text = count(gap.missed) + ' event(s) missed (' + (REASONS[gap.reason] || String(gap.reason)) + ')';
            if (Array.isArray(gap.rooms)) text += ': ' + gap.rooms.map((r) => 'room ' + r.room + ': ' + count(r.missed)).join(', ');
            else if (gap.rooms === null) text += ' in every room';
            return text;
          }
          function addGapLine(data) {
            let text = String(data);
            try { text = describeGap(JSON.parse(data)); } catch (e) { /* not JSON: show it as sent */ }
            const line = element('div', '⚠ gap in the stream: ' + text, 'line gap');
            line.dataset.kind = 'gap';
            append(line);
          }
          filter.addEventListener('input', () => { for (const line of feed.children) line.hidden = !matches(line); });

          // ---- the rooms table ----
          // One row per room, kept between polls: a cell is written only when its text changes, and rows move
          // only when the order changes, so 10,000 rooms do not rebuild 80,000 cells every second.
          const rowsByRoom = new Map();
          function setCell(td, text, className) {
            const value = String(text), name = className || '';
            if (td.textContent !== value) td.textContent = value;
            if (td.className !== name) td.className = name;
          }
          function roomRow(id) {
            let row = rowsByRoom.get(id);
            if (!row) {
              row = element('tr');
              row.dataset.room = String(id);
              for (let i = 0; i < 8; i++) row.appendChild(element('td'));
              rowsByRoom.set(id, row);
            }
            return row;
          }
          function renderRooms(snapshot, rates) {
            const seen = new Set();
            let before = null;
            for (const room of snapshot.rooms) {
              seen.add(room.id);
              const row = roomRow(room.id), cells = row.cells;
              row.classList.toggle('chosen', selected.has(room.id));
              const state = STATES[room.phase] || String(room.phase);
              setCell(cells[0], room.id, 'number');
              setCell(cells[1], state, 'state-' + state.replace(/[^a-z]+/g, '-'));
              setCell(cells[2], room.transport || '–');
              setCell(cells[3], room.maskedMode ? 'masked' : '–', room.maskedMode ? 'alarm-text' : '');
              setCell(cells[4], room.events, 'number');
              setCell(cells[5], rates.has(room.id) ? rates.get(room.id).toFixed(1) : '–', 'number');
              const alarms = (room.alarms || []).map(String);
              if (cells[6].dataset.alarms !== alarms.join(' ')) {
                cells[6].dataset.alarms = alarms.join(' ');
                cells[6].replaceChildren(...alarms.map((alarm) => element('span', alarm, 'alarm')));
              }
              setCell(cells[7], room.lastError || '', 'error');
              const expected = before ? before.nextSibling : roomsBody.firstChild;
              if (expected !== row) roomsBody.insertBefore(row, expected);
              before = row;
            }
            for (const [id, row] of rowsByRoom) {
              if (!seen.has(id)) { row.remove(); rowsByRoom.delete(id); }
            }
            const t = snapshot.totals || {};
            $('totals').textContent = (t.rooms || 0) + ' rooms, ' + (t.live || 0) + ' live, ' + (t.events || 0) +
              ' events' + (t.alarms ? ', ' + t.alarms + ' alarm(s)' : '');
            page.rooms = rowsByRoom.size;
          }

          // ---- the chart ----
          function drawChart() {
            const context = chart.getContext('2d'), width = chart.width, height = chart.height, pad = 4;
            context.clearRect(0, 0, width, height);
            context.fillStyle = '#ffffff';
            context.fillRect(0, 0, width, height);
            const max = Math.max(1, ...history.total, ...history.selected);
            context.strokeStyle = colors.grid;
            context.lineWidth = 1;
            for (let i = 1; i < 4; i++) {
              const y = Math.round(pad + (height - 2 * pad) * i / 4) + 0.5;
              context.beginPath(); context.moveTo(0, y); context.lineTo(width, y); context.stroke();
            }
            const line = (values, color) => {
              if (!values.length) return;
              context.strokeStyle = color;
              context.lineWidth = 3;
              context.beginPath();
              // The newest point is at the right edge; until the history is 10 polls long the x step is wider,
              // so a fresh page shows a line, not a dot.
              const step = (width - 2 * pad) / (Math.min(CHART_POINTS, Math.max(values.length, 10)) - 1);
              values.forEach((value, i) => {
                const x = width - pad - (values.length - 1 - i) * step;
                const y = height - pad - (height - 2 * pad) * value / max;
                if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
              });
              if (values.length === 1) context.lineTo(width - pad - 1, height - pad - (height - 2 * pad) * values[0] / max);
              context.stroke();
            };
            line(history.total, colors.total);
            line(history.selected, colors.selected);
            $('chart-max').textContent = 'max ' + max.toFixed(1) + '/s';
            page.chartPoints = history.total.length;
          }
          function record(series, value) {
            series.push(value);
            if (series.length > CHART_POINTS) series.shift();
          }

          // ---- polling /rooms ----
          async function poll() {
            try {
              const response = await fetch('/rooms', { cache: 'no-store' });
              if (!response.ok) throw new Error('HTTP ' + response.status);
              const snapshot = await response.json();
              // The server's sampling time when it sends one (RoomsDocument's sampledAtMs), else this page's clock.
              const now = typeof snapshot.sampledAtMs === 'number' ? snapshot.sampledAtMs : performance.now();
              let rates = new Map(), total = 0, chosen = 0;
              if (previous && now <= previous.at) {
                // The same sample again (no time passed on the server's clock): keep the last rates.
                rates = lastRates;
              } else if (previous) {
                const seconds = Math.max(0.001, (now - previous.at) / 1000);
                for (const room of snapshot.rooms) {
                  const before = previous.events.get(room.id);
                  if (before === undefined) continue;
                  const rate = Math.max(0, room.events - before) / seconds;
                  rates.set(room.id, rate);
                  total += rate;
                  if (selected.has(room.id)) chosen += rate;
                }
                record(history.total, total);
                record(history.selected, chosen);
              }
              if (!previous || now > previous.at) {
                previous = { at: now, events: new Map(snapshot.rooms.map((room) => [room.id, room.events])) };
                lastRates = rates;
              }
              renderRooms(snapshot, rates);
              drawChart();
              page.polls++;
              if (!chosenByUser && !selected.size && snapshot.rooms.length) {
                choose(snapshot.rooms.slice(0, AUTO_ROOMS).map((room) => room.id), false);
              }
              if (!selected.size) setStatus('no room chosen: click a row or type room ids');
              else if (!source || source.readyState === EventSource.CLOSED) openStream();
              else if (source.readyState === EventSource.OPEN) setStatus('streaming ' + page.selected.length + ' room(s)');
            } catch (error) {
              page.pollErrors++;
              setStatus('GET /rooms failed: ' + error.message, true);
            } finally {
              setTimeout(poll, POLL_MS);
            }
          }

          const fromURL = parseRooms(new URLSearchParams(location.search).get('rooms') || '');
          if (fromURL.length) choose(fromURL, true);
          drawChart();
          poll();
        })();

        """#
}
