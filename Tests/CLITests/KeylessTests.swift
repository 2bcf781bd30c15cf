import XCTest

@testable import danmu_cli

/// Issue 16: the `"key":""` fallback to broadcastlv is an explicit mode (`listen --keyless`), warned once.
final class KeylessTests: XCTestCase {
    private func options(_ words: [String]) throws -> ListenOptions {
        try ListenOptions.from(ArgumentParser.parse(words, specs: ListenOptions.specs), stdoutIsTerminal: false)
    }

    func testKeylessFallbackIsOffUnlessAskedFor() throws {
        let plain = try options(["7"])
        XCTAssertFalse(plain.keyless)
        XCTAssertFalse(
            LiveSiteResolver(options: plain, warnings: WarningLog(status: nil)).resolver.configuration
                .allowKeylessFallback)
        let withAPI = try options(["7", "--api", "http://127.0.0.1:9"])
        XCTAssertFalse(
            LiveSiteResolver(options: withAPI, warnings: WarningLog(status: nil)).resolver.configuration
                .allowKeylessFallback)

        let keyless = try options(["7", "--keyless"])
        XCTAssertTrue(keyless.keyless)
        let warnings = WarningLog(status: nil)
        XCTAssertTrue(
            LiveSiteResolver(options: keyless, warnings: warnings).resolver.configuration.allowKeylessFallback)
        XCTAssertEqual(warnings.totalWarnings, 1, "the mode itself is warned about")
        XCTAssertTrue(LiveSiteResolver.keylessWarning.contains("reported to close key-less connections"))
    }

    func testKeylessWithAFixedServerIsAUsageError() {
        XCTAssertThrowsError(try options(["7", "--keyless", "--server", "127.0.0.1:2243"])) { error in
            XCTAssertTrue("\(error)".contains("--keyless applies to rooms resolved"), "\(error)")
        }
    }

    /// `listen --keyless --api`: the warning appears once on stderr, and rooms whose getDanmuInfo works still get
    /// their key (the mode changes only what a failure does).
    func testListenKeylessWarnsOnceOnStderr() throws {
        let (simulator, _, api) = try startSimulatedSite(
            ["--mix", "danmaku", "--rate", "20", "--limit", "5"], rooms: 2)
        let listener = try ChildProcess(
            ["listen", "--keyless", "--api", "http://127.0.0.1:\(api)", "--format", "jsonl", "--no-status", "1", "2"])
        let danmaku = Array(#""kind":"danmaku""#.utf8)
        let caughtUp = listener.pump(seconds: 45) { child in
            child.stdout.split(separator: 10).count { $0.contains(danmaku) } >= 10
        }
        XCTAssertTrue(caughtUp, "listener got fewer than 10 danmaku: \(listener.stderrText)")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)
        simulator.send(SIGTERM)
        _ = simulator.finish(seconds: 15)
        let stderr = listener.stderrText
        XCTAssertEqual(stderr.split(separator: "\n").count { $0.contains("warning: --keyless:") }, 1, stderr)
        XCTAssertFalse(stderr.contains("no danmaku token"), "getDanmuInfo worked: no key-less room\n\(stderr)")
    }
}

/// Issue 16: `listen --help` tells a guest why names are masked and how logging in fixes it.
final class ListenHelpMaskingTests: XCTestCase {
    func testListenHelpExplainsMaskedNamesAndTheCookieFile() throws {
        let (ended, out, err) = try ChildProcess.run(["listen", "--help"])
        XCTAssertEqual(ended, .exited(0), err)
        let help = out + err
        for phrase in ["Masked names", "uid 0", "x***", "SESSDATA", "--cookie-file FILE", "docs/cli.md", "--keyless"] {
            XCTAssertTrue(help.contains(phrase), "listen --help lacks \(phrase): \(help)")
        }
    }
}
