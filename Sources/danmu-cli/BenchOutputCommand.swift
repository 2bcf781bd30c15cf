import DanmuClient
import DanmuCodecs
import EventLoop
import Glibc

/// `danmu-cli bench-output`: measures the output path alone — the same `EventPrinter` → `OutputSink` code
/// `listen` runs, fed from T threads with a real 2024 DANMU_MSG decoded once — so its events/s can be
/// compared with what the network side delivers. Run it with stdout on /dev/null.
enum BenchOutputCommand: CLICommand {
    static let name = "bench-output"
    static let summary = "measure the output path (formatting + batched writes) with synthetic events"
    static let usage = ["[options] > /dev/null"]
    static let options: [OptionSpec] = [
        OptionSpec(name: "events", valueName: "N", help: "events to write (default 2000000)"),
        OptionSpec(name: "threads", valueName: "T", help: "producer threads, like the collector's workers (default 2)"),
        OptionSpec(name: "format", valueName: "text|jsonl", help: "output format (default jsonl)"),
        OptionSpec(name: "sink-only", help: "format the line once and append the same bytes N times (sink alone)"),
    ]
    static let details = """
        Prints one JSON line on stderr: {"events":N,"seconds":S,"events_per_second":R,"bytes":B,"write_batches":W}.
        """

    /// A real DANMU_MSG (no1xsyzy/ubw 2024-03 sample, Fixtures/samples/DANMU_MSG.ubw-2024-03.json) whose
    /// id_str has been replaced by a simulator-style one.
    static let sample = #"""
        {"cmd":"DANMU_MSG","info":[[0,1,25,16777215,1710916697432,1710914260,0,"177882c0",0,0,0,"",0,"{}","{}",{"mode":0,"show_player_type":0,"extra":"{\"send_from_me\":false,\"mode\":0,\"color\":16777215,\"dm_type\":0,\"font_size\":25,\"player_mode\":1,\"show_player_type\":0,\"content\":\"主播晚上好，今天玩什么\",\"user_hash\":\"393773760\",\"emoticon_unique\":\"\",\"bulge_display\":0,\"recommend_score\":1,\"direction\":0,\"pk_direction\":0,\"emots\":null,\"is_audited\":false,\"id_str\":\"sim-1-1-1710916697432000000\",\"icon\":null,\"show_reply\":true,\"reply_mid\":0,\"hit_combo\":0}","user":{"uid":3546571385866489,"base":{"name":"孤丶独の观测者","face":"https://i0.hdslb.com/bfs/face/member/noface.jpg","name_color":0,"is_mystery":false},"medal":null,"guard":null}},{"activity_identity":"","activity_source":0,"not_show":0},0],"主播晚上好，今天玩什么",[3546571385866489,"孤丶独の观测者",0,0,0,10000,1,""],[21,"北极猫","too_long_name",21452505,6126494,"",0,6126494,6126494,6126494,0,1,1405406],[1,0,9868950,">50000",0],["",""],0,0,null,{"ts":1710916697,"ct":"32C783F7"},0,0,null,null,0,12,[0],null],"dm_v2":""}
        """#

    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32 {
        let total = try arguments.int("events", in: 1...1_000_000_000) ?? 2_000_000
        let threads = try arguments.int("threads", in: 1...64) ?? 2
        let format = try arguments.choice("format", ["text", "jsonl"]).flatMap(OutputFormat.init(rawValue:)) ?? .jsonl
        var decoder = MessageDecoder()
        let packet = Packet.encode(.message, protover: 0, body: Array(sample.utf8))
        guard let header = PacketHeader(parsing: packet),
            let event = try? decoder.decode(Frame(header: header, body: Array(packet[16...]))).first
        else {
            StandardError.print("danmu-cli bench-output: the built-in sample did not decode")
            return 1
        }
        let sink = OutputSink(destination: OutputDestination(standardOutput: ()))
        let printer = EventPrinter(format: format, kinds: nil, sink: sink)
        let sinkOnly = arguments.has("sink-only")
        var line = JSONWriter()
        writeJSONLine(room: 1, receivedAt: SystemClock.realtimeNanoseconds(), event: event, into: &line)
        let preformatted = line.bytes
        let started = SystemClock.monotonicNanoseconds()
        let wallClock = SystemClock.realtimeNanoseconds()
        var handles: [PosixThread] = []
        for index in 0..<threads {
            let share = total / threads + (index < total % threads ? 1 : 0)
            handles.append(
                PosixThread.startOrExit(name: "bench-producer") {
                    if sinkOnly {
                        preformatted.withUnsafeBytes { bytes in
                            for _ in 0..<share { sink.append(bytes) }
                        }
                        return
                    }
                    for i in 0..<share {
                        // Rooms and times vary as they would across a collector's rooms.
                        printer.print(
                            room: Int64(1 + (i + index) % 1000), receivedAt: wallClock + Int64(i), event: event)
                    }
                })
        }
        handles.forEach { $0.join() }
        let written = sink.close()
        let seconds = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
        var json = SummaryJSON()
        json.add("events", sinkOnly ? total : printer.eventsWritten)
        json.add("threads", threads)
        json.add("format", format.rawValue)
        json.add("seconds", seconds)
        json.add("events_per_second", Int(Double(sinkOnly ? total : printer.eventsWritten) / seconds))
        // The machine may be shared: CPU time says what the work costs regardless of other load.
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu =
            Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        json.add("cpu_seconds", cpu)
        json.add("events_per_cpu_second", Int(Double(sinkOnly ? total : printer.eventsWritten) / cpu))
        json.add("sink_only", sinkOnly)
        json.add("bytes", written.bytesWritten)
        json.add("write_batches", written.writeBatches)
        StandardError.print(json.text)
        return written.failure == nil ? 0 : 1
    }
}
