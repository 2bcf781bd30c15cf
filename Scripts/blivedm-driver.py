#!/usr/bin/env python3
"""Runs blivedm (xfgryujk's Bilibili live client from PyPI, not our code) against danmu's simulator.

blivedm is patched in two places only, as the interop check asks:
  - the room look-up (`init_room`): no HTTP to the live site; the room id is taken as given, the host list is the
    simulator and there is no token;
  - the URL: blivedm builds `wss://{host}:{wss_port}/sub` itself inside its network coroutine, so its aiohttp
    session is wrapped and `ws_connect` is pointed at the simulator's plain `ws://HOST:PORT/sub` instead.
Everything else (the upgrade, AUTH with protover 3, heartbeats, brotli batches, packet splitting, the command
dispatch of its BaseHandler) is blivedm's own.

Prints one JSON line per danmaku that blivedm's handler received, in arrival order:
  {"kind":"danmaku","room":R,"id_str":"sim-R-SEQ-NS","text":"#SEQ …"}
then {"kind":"done","received":N} and exits 0 once every room has COUNT danmaku (and WAIT more seconds passed to
catch extras), or prints {"kind":"timeout",…} and exits 1 after TIMEOUT seconds.
Usage: blivedm-driver.py --url ws://127.0.0.1:PORT/sub --rooms 1,2,3 --count N [--timeout S] [--wait S]
"""
import argparse
import asyncio
import json
import sys
import warnings

import blivedm
import blivedm.models as models


class SimulatorSession:
    """blivedm's aiohttp session with `ws_connect` pointed at the simulator; everything else delegated."""

    def __init__(self, session, url):
        self._session = session
        self._url = url

    def ws_connect(self, url, **kwargs):
        # blivedm passes ssl=<SSLContext> for its wss URL; a ws:// URL needs none.
        kwargs.pop("ssl", None)
        return self._session.ws_connect(self._url, **kwargs)

    def __getattr__(self, name):
        # blivedm reads `session.loop` (deprecated in aiohttp) to check it runs on the current loop.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return getattr(self._session, name)


class SimulatorClient(blivedm.BLiveClient):
    """BLiveClient whose room look-up is the simulator's: real room id as given, no token."""

    def __init__(self, room_id, url, session):
        super().__init__(room_id, session=SimulatorSession(session, url), heartbeat_interval=5)

    async def init_room(self):
        self._room_id = self._room_short_id = self._tmp_room_id
        self._room_owner_uid = 0
        self._host_server_list = [{"host": "127.0.0.1", "port": 0, "wss_port": 0, "ws_port": 0}]
        self._host_server_token = None
        return True


class PrintingHandler(blivedm.BaseHandler):
    def __init__(self, counts):
        self.counts = counts

    async def _on_danmaku(self, client, message: models.DanmakuMessage):
        extra = message.mode_info.get("extra", "{}") if isinstance(message.mode_info, dict) else "{}"
        id_str = json.loads(extra).get("id_str", "")
        line = {"kind": "danmaku", "room": client.room_id, "id_str": id_str, "text": message.msg}
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        self.counts[client.room_id] = self.counts.get(client.room_id, 0) + 1


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rooms", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=40)
    parser.add_argument("--wait", type=float, default=1)
    options = parser.parse_args()
    rooms = [int(room) for room in options.rooms.split(",")]
    import aiohttp

    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    counts = {}
    handler = PrintingHandler(counts)
    clients = []
    for room in rooms:
        client = SimulatorClient(room, options.url, session)
        client.add_handler(handler)
        client.start()
        clients.append(client)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.timeout
    while any(counts.get(room, 0) < options.count for room in rooms) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    complete = all(counts.get(room, 0) >= options.count for room in rooms)
    if complete:
        # Extra danmaku past COUNT would be a bug on the simulator's side (its --limit); wait to see them.
        await asyncio.sleep(options.wait)
    for client in clients:
        await client.stop_and_close()
    await session.close()
    total = sum(counts.values())
    if complete:
        print(json.dumps({"kind": "done", "received": total}), flush=True)
        return 0
    print(json.dumps({"kind": "timeout", "received": {str(room): counts.get(room, 0) for room in rooms}}), flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
