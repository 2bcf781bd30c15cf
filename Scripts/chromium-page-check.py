#!/usr/bin/env python3
"""Loads a page in headless Chromium and reports on it over the DevTools protocol (CDP).

    chromium-page-check.py URL [--wait-js EXPR] [--timeout S] [--eval EXPR]... [--screenshot PATH] [--lines]

1. starts `chromium --headless=new --no-sandbox --disable-gpu --remote-debugging-port=0 --user-data-dir=<tmp>`
   in a session of its own, and reads the `DevTools listening on ws://...` line from its stderr;
2. opens the page target's WebSocket (python3 `websockets`, sync client) and navigates to URL;
3. with --wait-js, evaluates `!!(EXPR)` every 50 ms until it is true or --timeout seconds pass, and reports
   how long that took from the start of the navigation;
4. evaluates each --eval EXPR (promises awaited) and reports its value as JSON;
5. with --screenshot, saves a PNG of the viewport (--window WIDTHxHEIGHT, default 1280x900);
6. always kills Chromium's whole process group and removes the profile directory, whatever happened
   (SIGTERM to this script included; and Chromium gets SIGKILL through PR_SET_PDEATHSIG if this script is
   killed outright).

Prints one JSON object (or, with --lines, tab-separated lines for the Swift test driver, see below) and exits
0 when every step ran (a wait that timed out is still exit 0 with "satisfied": false), 2 when a step failed.
--lines format, one record per line, every value JSON-encoded (UTF-8, so without tabs or newlines):
    wait<TAB>true|false<TAB>SECONDS          value<TAB>INDEX<TAB>JSON          screenshot<TAB>"PATH"
    console<TAB>"TEXT"                       exception<TAB>"TEXT"              error<TAB>"TEXT"
    profile<TAB>"PATH" (Chromium's --user-data-dir, removed at the end: no process may name it afterwards)
"""
import argparse
import base64
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from websockets.sync.client import connect

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class CheckFailed(Exception):
    pass


def die_with_parent():
    # Runs in the child between fork and exec: SIGKILL Chromium if this script dies without cleaning up.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except OSError:
        pass


def start_chromium(profile, window, deadline):
    log_path = os.path.join(profile, "stderr.log")
    log = open(log_path, "wb")
    args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
            "--user-data-dir=" + profile, "--window-size=" + window.replace("x", ","), "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--mute-audio", "about:blank"]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                               preexec_fn=die_with_parent)
    log.close()
    while time.monotonic() < deadline:
        with open(log_path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                if line.startswith("DevTools listening on ws://"):
                    return process, line.split(" on ", 1)[1].strip()
        if process.poll() is not None:
            break
        time.sleep(0.05)
    with open(log_path, "rb") as f:
        tail = f.read()[-2000:].decode("utf-8", "replace")
    raise CheckFailed("chromium printed no 'DevTools listening on' line (exit %s): %s" % (process.poll(), tail))


def stop_chromium(process):
    if process is None:
        return
    # Chromium runs in a session of its own (start_new_session), so its pgid is its pid: kill every renderer,
    # zygote and utility process with it, then reap the main one.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if process.poll() is None:
        process.wait()
    # Chromium's helpers were re-parented to this process (a child subreaper, see main): reap them, so no
    # zombie is left to an init that may never collect it.
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.02)


class DevTools:
    """One CDP WebSocket: commands by id, events collected while waiting for replies."""

    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, timeout=10.0):
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise CheckFailed("no reply to %s within %.1f s" % (method, timeout))
            message = json.loads(self.socket.recv(timeout=left))
            if message.get("id") == ident:
                if "error" in message:
                    raise CheckFailed("%s failed: %s" % (method, message["error"]))
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method, timeout):
        end = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                raise CheckFailed("no %s within %.1f s" % (method, timeout))
            try:
                message = json.loads(self.socket.recv(timeout=left))
            except TimeoutError:
                continue
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression, timeout=10.0):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
            raise CheckFailed("evaluating %r threw: %s" % (expression, text))
        return result.get("result", {}).get("value")


def page_target(browser_url, deadline):
    port = browser_url.split("://", 1)[1].split("/", 1)[0]
    while time.monotonic() < deadline:
        with urllib.request.urlopen("http://%s/json/list" % port, timeout=5) as response:
            for target in json.load(response):
                if target.get("type") == "page":
                    return target["webSocketDebuggerUrl"]
        time.sleep(0.05)
    raise CheckFailed("chromium listed no page target")


def run(options, report):
    deadline = time.monotonic() + options.timeout + 25
    profile = tempfile.mkdtemp(prefix="danmu-chromium-")
    report["profile"] = profile
    process = None
    try:
        process, browser_url = start_chromium(profile, options.window, min(deadline, time.monotonic() + 20))
        with connect(page_target(browser_url, deadline), max_size=None,
                     open_timeout=max(1.0, deadline - time.monotonic())) as socket:
            drive(DevTools(socket), options, report)
    finally:
        stop_chromium(process)
        shutil.rmtree(profile, ignore_errors=True)


def drive(tools, options, report):
    """Navigates, waits, evaluates and takes the screenshot over one CDP connection."""
    tools.call("Page.enable")
    tools.call("Runtime.enable")
    started = time.monotonic()
    navigation = tools.call("Page.navigate", {"url": options.url})
    if navigation.get("errorText"):
        raise CheckFailed("navigating to %s failed: %s" % (options.url, navigation["errorText"]))
    tools.wait_event("Page.loadEventFired", timeout=max(10.0, options.timeout))
    report["load_seconds"] = round(time.monotonic() - started, 3)
    if options.wait_js:
        satisfied = False
        wait_end = started + options.timeout
        while True:
            satisfied = bool(tools.evaluate("!!(%s)" % options.wait_js))
            if satisfied or time.monotonic() >= wait_end:
                break
            time.sleep(0.05)
        report["wait"] = {"expression": options.wait_js, "satisfied": satisfied,
                          "seconds": round(time.monotonic() - started, 3)}
    report["values"] = [{"expression": e, "value": tools.evaluate(e)} for e in options.eval]
    if options.screenshot:
        shot = tools.call("Page.captureScreenshot", {"format": "png"}, timeout=20)
        with open(options.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        report["screenshot"] = os.path.abspath(options.screenshot)
    for event in tools.events:
        if event["method"] == "Runtime.consoleAPICalled":
            parts = [str(a.get("value", a.get("description", ""))) for a in event["params"].get("args", [])]
            report["console"].append(" ".join(parts))
        elif event["method"] == "Runtime.exceptionThrown":
            details = event["params"]["exceptionDetails"]
            report["exceptions"].append(details.get("exception", {}).get("description") or details.get("text"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--wait-js", help="JavaScript expression to wait for (truthy)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the load and --wait-js")
    parser.add_argument("--eval", action="append", default=[], help="expression to evaluate (repeatable)")
    parser.add_argument("--screenshot", help="PNG file to write")
    parser.add_argument("--window", default="1280x900", help="viewport WIDTHxHEIGHT")
    parser.add_argument("--lines", action="store_true", help="tab-separated records instead of one JSON object")
    options = parser.parse_args()
    # SIGTERM (the Swift driver's timeout) unwinds through run()'s finally, which kills Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    try:
        # PR_SET_CHILD_SUBREAPER = 36: orphaned Chromium helpers become our children, so we can reap them.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1)
    except OSError:
        pass
    report = {"url": options.url, "console": [], "exceptions": [], "values": []}
    status = 0
    try:
        run(options, report)
    except (CheckFailed, OSError, TimeoutError) as error:
        report["error"] = str(error)
        status = 2
    except Exception as error:  # a CDP or websockets surprise: still report it, never a bare traceback
        report["error"] = "%s: %s" % (type(error).__name__, error)
        status = 2
    if options.lines:
        out = []
        if "wait" in report:
            out.append("wait\t%s\t%s" % (json.dumps(report["wait"]["satisfied"]), report["wait"]["seconds"]))
        for index, value in enumerate(report["values"]):
            out.append("value\t%d\t%s" % (index, json.dumps(value["value"], ensure_ascii=False)))
        if "screenshot" in report:
            out.append("screenshot\t" + json.dumps(report["screenshot"]))
        if "profile" in report:
            out.append("profile\t" + json.dumps(report["profile"]))
        out += ["console\t" + json.dumps(text, ensure_ascii=False) for text in report["console"]]
        out += ["exception\t" + json.dumps(text, ensure_ascii=False) for text in report["exceptions"]]
        if "error" in report:
            out.append("error\t" + json.dumps(report["error"], ensure_ascii=False))
        print("\n".join(out), flush=True)
    else:
        print(json.dumps(report, indent=1), flush=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
