// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "danmu",
    products: [
        .library(name: "EventLoop", targets: ["EventLoop"]),
        .library(name: "DanmuCodecs", targets: ["DanmuCodecs"]),
        .library(name: "DanmuClient", targets: ["DanmuClient"]),
        .library(name: "DanmuSimulator", targets: ["DanmuSimulator"]),
        .library(name: "DanmuPipeline", targets: ["DanmuPipeline"]),
        .library(name: "DanmuRealtime", targets: ["DanmuRealtime"]),
        .library(name: "DanmuCluster", targets: ["DanmuCluster"]),
        .executable(name: "danmu-cli", targets: ["danmu-cli"]),
        .executable(name: "danmu-bench", targets: ["danmu-bench"]),
    ],
    targets: [
        // Linux headers that Glibc's module map does not export (epoll, eventfd, timerfd, signalfd). Headers only.
        .target(name: "CDanmuSystem"),
        // The 122,784-byte brotli static dictionary as a C array: compiles instantly, unlike a Swift literal.
        .target(name: "CBrotliDictionary"),
        .target(name: "EventLoop", dependencies: ["CDanmuSystem"]),
        .target(name: "DanmuCodecs", dependencies: ["CBrotliDictionary"]),
        .target(name: "DanmuClient", dependencies: ["EventLoop", "DanmuCodecs"]),
        .target(name: "DanmuSimulator", dependencies: ["EventLoop", "DanmuCodecs", "DanmuClient"]),
        // Stages (filter, anonymize, dedupe, sample), sinks (JSON Lines, SQLite via dlopen) and their backlog.
        .target(name: "DanmuPipeline", dependencies: ["CDanmuSystem", "EventLoop", "DanmuCodecs", "DanmuClient"]),
        // The HTTP/1.1 server on the reactor: SSE and WebSocket fan-out to browsers, the live page, metrics.
        .target(
            name: "DanmuRealtime", dependencies: ["EventLoop", "DanmuCodecs", "DanmuClient", "DanmuPipeline"]),
        // Many processes share one room list through Redis: node heartbeats, per-room leases, fair share.
        .target(name: "DanmuCluster", dependencies: ["EventLoop", "DanmuCodecs", "DanmuClient", "DanmuPipeline"]),
        .executableTarget(
            name: "danmu-cli",
            dependencies: ["DanmuClient", "DanmuSimulator", "DanmuPipeline", "DanmuRealtime", "DanmuCluster"]),
        .executableTarget(
            name: "danmu-bench",
            dependencies: [
                "CDanmuSystem", "EventLoop", "DanmuCodecs", "DanmuClient", "DanmuSimulator", "DanmuPipeline",
                "DanmuRealtime", "TestSupport",
            ],
            path: "Benchmarks/danmu-bench"
        ),
        // Helpers shared by the test targets and danmu-bench (fixture files, PRNG, SHA-256, hex, fds). Glibc, stdlib, EventLoop.
        .target(name: "TestSupport", dependencies: ["EventLoop"], path: "Tests/TestSupport"),
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop", "TestSupport"]),
        .testTarget(name: "DanmuCodecsTests", dependencies: ["DanmuCodecs", "TestSupport"]),
        .testTarget(name: "DanmuClientTests", dependencies: ["DanmuClient", "DanmuSimulator", "TestSupport"]),
        .testTarget(name: "DanmuSimulatorTests", dependencies: ["DanmuSimulator", "DanmuClient", "TestSupport"]),
        .testTarget(
            name: "DanmuPipelineTests",
            dependencies: ["DanmuPipeline", "DanmuClient", "DanmuCodecs", "DanmuSimulator", "TestSupport"]),
        .testTarget(
            name: "DanmuRealtimeTests",
            dependencies: ["DanmuRealtime", "DanmuPipeline", "DanmuClient", "DanmuSimulator", "TestSupport"]),
        .testTarget(
            name: "DanmuClusterTests",
            dependencies: ["DanmuCluster", "DanmuPipeline", "DanmuClient", "DanmuSimulator", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["danmu-cli", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
