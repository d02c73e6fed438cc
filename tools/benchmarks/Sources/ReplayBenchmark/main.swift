import Glibc
import ESMCore
import ESMStorage
import Foundation
import Logging

// Replay and query figures for logs of 1k, 100k and 1M events:
//
//     swift run -c release --package-path tools/benchmarks ReplayBenchmark [1000,100000,1000000]
//
// Each log is written through the decider and the log writer (16 events per record, no fsync:
// the figures are about reading). A log of N events holds min(N/2, 100k) mappings: their
// creates and Creating→Enabled transitions, then updates and their transitions.

// Child mode: open a store in a fresh process and report its RSS growth, so that memory freed
// by the generator does not hide what the state costs.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--rss" {
    Heap.limitArenas(to: ProcessInfo.processInfo.activeProcessorCount)  // as `esmlog serve` does
    let before = rssBytes()
    var options = StoreOptions()
    options.snapshotEveryEvents = 0
    let store = try Store(dataDirectory: CommandLine.arguments[2], options: options, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
    let untrimmed = rssBytes() - before
    if let f = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") {
        _ = unsafeBitCast(f, to: (@convention(c) (Int) -> Int32).self)(0)
    }
    print(untrimmed, store.read { $0.mappings.count }, rssBytes() - before)
    exit(0)
}

// Phase mode: where the time of loading a snapshot goes.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--phases" {
    let snaps = SnapshotStore(directory: SnapshotStore.directory(CommandLine.arguments[2]))
    let name = try snaps.list()[0].name
    var t = ContinuousClock.now
    func lap(_ what: String) { print(what, ContinuousClock.now - t); t = ContinuousClock.now }
    let b = try POSIXFileSystem().read(snaps.directory + "/" + name)
    lap("read")
    let dictionaryLength = Int(b[144]) | Int(b[145]) << 8 | Int(b[146]) << 16 | Int(b[147]) << 24
    let rawSize = (0..<8).reduce(0) { $0 | Int(b[136 + $1]) << (8 * $1) }
    let body = b[(SnapshotStore.headerSize + dictionaryLength)...]
    let raw = SnapshotStore.decompress(body, size: rawSize, oneFrame: b[8] < 3)!
    lap("decompress \(Zstd.frames(in: body)!.count) frame(s) on every core")
    // Version 2 and 3 records (what esmlog writes now): read them on one core, to see the cost alone.
    var mappings: [Mapping] = []
    var i = 0
    while i < raw.count {
        let n = Int(UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
        mappings.append(try Mapping(snapshotRecord: raw[(i + 4)..<(i + 4 + n)]))
        i += 4 + n
    }
    lap("mappings \(mappings.count)")
    let p = try Projection(restoring: mappings, lastSequence: 1 << 40, lastTime: EventTime(milliseconds: 0))
    lap("restore \(p.mappings.count), one thread")
    exit(0)
}

let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let actor = Actor(accessKeyId: "AKIDBENCH", sourceIp: "10.0.0.1",
                  userAgent: "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.1.0 lang/python#3.11.7 Botocore/1.43.11",
                  requestId: "", region: "us-east-1")

func rssBytes() -> Int {
    let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
    return (Int(statm.split(separator: " ")[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

func percentile(_ v: [Double], _ p: Double) -> Double { v.sorted()[min(v.count - 1, Int(Double(v.count) * p))] }

/// Writes a log of `events` events into `dir`.
/// - Returns: the mappings' UUIDs, in creation order.
@discardableResult
func makeLog(_ dir: String, events: Int) throws -> [String] {
    let scan = try LogScanner(directory: Store.logDirectory(dir)).scan()
    let writer = try LogWriter(directory: Store.logDirectory(dir), scan: scan, segmentSizeBytes: 64 << 20, sync: .none, logger: logger)
    var p = Projection()
    var pending: [Event] = []
    var clock: Int64 = 1_790_000_000_000
    var rng = SystemRandomNumberGenerator()
    func add(_ d: Decision) throws {
        let e = d.event(sequence: p.lastSequence + 1)
        try p.apply(e)
        pending.append(e)
        if pending.count == 16 {
            try writer.append(pending)
            pending.removeAll()
        }
    }
    let mappings = min(events / 2, 100_000)
    var ids: [String] = []
    while p.lastSequence < UInt64(events) {
        clock += 3
        var a = actor
        a.requestId = UUID().uuidString.lowercased()
        let ctx = CommandContext(time: EventTime(milliseconds: clock), actor: a, account: "123456789012")
        if ids.count < mappings {
            let id = UUID().uuidString.lowercased()
            let n = ids.count
            ids.append(id)
            try add(Decider.create(body: [
                "FunctionName": .string("service-\(n % 50)-handler"), "EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:orders-\(n)-queue"),
                "BatchSize": 10, "ScalingConfig": ["MaximumConcurrency": 10], "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "FilterCriteria": ["Filters": [["Pattern": #"{"body":{"type":["order_created"]}}"#]]],
            ], uuid: id, context: ctx, state: p).get())
        } else {
            let id = ids[Int.random(in: 0..<ids.count, using: &rng)]
            try add(Decider.update(uuid: id, body: ["BatchSize": .number(Double(Int.random(in: 1...10, using: &rng)))], context: ctx, state: p).get())
        }
        if p.lastSequence < UInt64(events), let last = pending.last ?? nil as Event?,
            let t = Decider.completeTransition(uuid: last.uuid, time: EventTime(milliseconds: clock + 1), state: p) {
            try add(t)
        }
    }
    if !pending.isEmpty { try writer.append(pending) }
    writer.close()
    return ids
}

// Command mode: `esmlog verify` and `esmlog replay` as whole commands on a log of N events,
// against the floor of reading the same files (read, CRC-32C and decompress every record, on one
// core and on all); then one mapping's history (`timeline UUID`, `export --mapping UUID`) through
// the mapping index, the first read that builds it, and the same timeline walking the whole log:
//
//     swift run -c release --package-path tools/benchmarks ReplayBenchmark --commands 1000000 .build/release/esmlog
if CommandLine.arguments.count == 4, CommandLine.arguments[1] == "--commands" {
    let events = Int(CommandLine.arguments[2])!
    let binary = CommandLine.arguments[3]
    let dir = NSTemporaryDirectory() + "esmlog-commands-" + UUID().uuidString
    let ids = try makeLog(dir, events: events)
    let wal = Store.logDirectory(dir)
    let files = try FileManager.default.contentsOfDirectory(atPath: wal).filter { $0.hasSuffix(LogFormat.segmentSuffix) }.sorted()
    let bytes = try files.reduce(0) { $0 + (try POSIXFileSystem().read(wal + "/" + $1)).count }
    print("whole commands on \(events) events (\(bytes / 1024) KiB in \(files.count) segments), \(ProcessInfo.processInfo.activeProcessorCount) cores, best of 3")
    func best(_ runs: Int = 3, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let t = ContinuousClock.now
            try body()
            times.append(seconds(ContinuousClock.now - t))
        }
        return times.min()!
    }
    // The floor: what any reader must do with the bytes, without checking links or parsing events.
    let one = try best { _ = try readFloor(wal, files: files, workers: 1) }
    let all = try best { _ = try readFloor(wal, files: files, workers: ProcessInfo.processInfo.activeProcessorCount) }
    func command(_ arguments: [String], runs: Int = 3) throws -> Double {
        try best(runs) { precondition(run(binary, arguments) == 0, "\(arguments) failed") }
    }
    let verify = try command(["verify", "--data-dir", dir])
    let replay = try command(["replay", "--data-dir", dir])
    func line(_ what: String, _ t: Double) {
        print("  \(what): \(String(format: "%.3f", t)) s = \(String(format: "%.0f", Double(events) / t)) events/s; floor (all cores) / this: \(String(format: "%.2f", all / t))")
    }
    line("floor, one core", one)
    line("floor, all cores", all)
    line("esmlog verify", verify)
    line("esmlog replay", replay)
    // One mapping, from the middle of the log: about ten events in as many records.
    let id = ids[ids.count / 2]
    let build = try command(["timeline", "--data-dir", dir, id], runs: 1)
    let timeline = try command(["timeline", "--data-dir", dir, id])
    let export = try command(["export", "--format", "jsonl", "--data-dir", dir, "--mapping", id])
    let walked = try command(["timeline", "--data-dir", dir, id, "--verify"], runs: 1)
    let index = (try? FileManager.default.attributesOfItem(atPath: MappingIndex.path(dir))[.size] as? Int) ?? 0
    print("  one mapping's history (\(id)), mapping index of \(index / 1024) KiB:")
    print("    esmlog timeline UUID, no index yet (walks the log, writes the index): \(String(format: "%.3f", build)) s")
    print("    esmlog timeline UUID: \(String(format: "%.1f", timeline * 1000)) ms")
    print("    esmlog export --format jsonl --mapping UUID: \(String(format: "%.1f", export * 1000)) ms")
    print("    esmlog timeline UUID --verify (walks the whole log, as before the index): \(String(format: "%.3f", walked)) s, once")
    // Time travel as a served log allows it: a snapshot every 100,000 events (the server's
    // default), written here from an in-process replay; then the state at a point halfway
    // between two of them.
    var state = Projection()
    var middle: EventTime?
    let snapshots = SnapshotStore(directory: SnapshotStore.directory(dir))
    _ = try LogScanner(directory: wal).scan(visit: { e in
        try state.apply(e)
        if e.sequence == UInt64(events) * 55 / 100 { middle = e.time }
    }, visitRecord: { position, _ in
        if position.lastSequence % 100_000 == 0 { _ = try snapshots.write(state, at: position) }
    })
    // One mapping is read through the mapping index; with --verify, from the snapshot before the
    // point and the log after it, as every mapping is. Both must print the same bytes.
    let bySeq = ["replay", "--data-dir", dir, "--at-seq", "\(events * 55 / 100)", "--mapping", id]
    let byTime = ["replay", "--data-dir", dir, "--at", "\(middle!)", "--mapping", id]
    for arguments in [bySeq, byTime] {
        precondition(output(binary, arguments) == output(binary, arguments + ["--verify"]), "\(arguments): the two reads differ")
    }
    let atSeq = try command(bySeq)
    let atTime = try command(byTime)
    let atSeqWalk = try command(bySeq + ["--verify"])
    let atTimeWalk = try command(byTime + ["--verify"])
    let whole = try command(["replay", "--data-dir", dir, "--at-seq", "\(events * 55 / 100)"])
    print("  time travel, snapshots every 100,000 events (\(try snapshots.list().count)):")
    print("    esmlog replay --at-seq \(events * 55 / 100) --mapping UUID: \(String(format: "%.1f", atSeq * 1000)) ms; with --verify (snapshot and log): \(String(format: "%.3f", atSeqWalk)) s")
    print("    esmlog replay --at \(middle!) --mapping UUID: \(String(format: "%.1f", atTime * 1000)) ms; with --verify: \(String(format: "%.3f", atTimeWalk)) s")
    print("    esmlog replay --at-seq \(events * 55 / 100), every mapping's JSON: \(String(format: "%.3f", whole)) s")
    if ProcessInfo.processInfo.environment["ESMLOG_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) } else { print("kept \(dir)") }
    exit(0)
}

/// What `binary` prints to stdout with `arguments` (not timed).
func output(_ binary: String, _ arguments: [String]) -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    try! p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    precondition(p.terminationStatus == 0, "\(arguments) failed")
    return data
}

/// Runs `binary` with `arguments`, its output to /dev/null, and waits for it with waitpid.
/// (Foundation's `Process.waitUntilExit` polls every 50 ms on Linux, which is the whole time of a
/// command that answers in tens of milliseconds.)
func run(_ binary: String, _ arguments: [String]) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let argv = ([binary] + arguments).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, binary, &actions, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    return (status >> 8) & 0xFF
}

/// Reads every record of the segments, checks its CRC-32C and decompresses its body, with
/// `workers` threads over contiguous runs of records. Returns the uncompressed bytes.
func readFloor(_ wal: String, files: [String], workers: Int) throws -> Int {
    var total = 0
    for name in files {
        let data = try POSIXFileSystem().read(wal + "/" + name)
        let salt = data[32..<40].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        // Frames first (cheap), dictionaries in order; then the work in parallel.
        var records: [(start: Int, end: Int, dictionary: ZstdDictionary?)] = []
        var dictionary: ZstdDictionary?
        var at = LogFormat.segmentHeaderSize
        while at + LogFormat.recordHeaderSize <= data.count {
            let length = Int(data[at..<(at + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
            guard length >= LogFormat.recordHeaderSize, at + length <= data.count else { break }
            if data[at + 10] == LogFormat.kindDictionary { dictionary = ZstdDictionary(Array(data[(at + 24)..<(at + length)])) }
            records.append((at, at + length, data[at + 11] == LogFormat.codecZstdDictionary ? dictionary : nil))
            at += length
        }
        let counts = Slots(workers), frames = records
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let zstd = Zstd()
            var n = 0
            let lo = frames.count * w / workers, hi = frames.count * (w + 1) / workers
            data.withUnsafeBytes { raw in
                for r in frames[lo..<hi] {
                    var crc = CRC32C.update(UInt32(truncatingIfNeeded: salt), UnsafeRawBufferPointer(rebasing: raw[r.start..<(r.start + 4)]))
                    crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[(r.start + 8)..<r.end]))
                    precondition(crc != 0x5eed_5eed || r.end > r.start)  // keep the checksum live
                    let codec = raw[r.start + 11]
                    if codec == LogFormat.codecNone { n += r.end - r.start - 24; continue }
                    n += zstd.decompress(data[(r.start + 24)..<r.end], sizeMax: LogFormat.recordSizeBytesMax << 2, dictionary: r.dictionary)!.count
                }
            }
            counts.buffer[w] = n
        }
        total += counts.buffer.reduce(0, +)
    }
    return total
}

/// One result slot per worker; each worker writes only its own.
final class Slots: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Int>
    init(_ n: Int) { buffer = .allocate(capacity: n); buffer.initialize(repeating: 0) }
    deinit { buffer.deallocate() }
}

let sizes = CommandLine.arguments.count > 1 ? CommandLine.arguments[1].split(separator: ",").compactMap { Int($0) } : [1_000, 100_000, 1_000_000]
guard !sizes.isEmpty, CommandLine.arguments.count <= 2 else {
    print("""
        usage: ReplayBenchmark [EVENTS[,EVENTS...]]      replay, snapshot, start-up and query figures
               ReplayBenchmark --commands EVENTS ESMLOG  the esmlog commands on one log of EVENTS events
               ReplayBenchmark --phases DIR | --rss DIR  where loading DIR's snapshot goes / its RSS
        """)
    exit(2)
}
print("replay and queries, \(ProcessInfo.processInfo.activeProcessorCount) cores, release build")
for events in sizes {
    let dir = NSTemporaryDirectory() + "esmlog-replay-" + UUID().uuidString
    defer { if ProcessInfo.processInfo.environment["ESMLOG_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) } else { print("kept \(dir)") } }
    try makeLog(dir, events: events)
    var options = StoreOptions()
    options.snapshotEveryEvents = 0

    var started = ContinuousClock.now
    var store: Store? = try Store(dataDirectory: dir, options: options, logger: logger)
    let coldSeconds = seconds(ContinuousClock.now - started)
    let mappings = store!.read { $0.mappings.count }
    let snapshotStarted = ContinuousClock.now
    _ = try store!.snapshot()
    let snapshotSeconds = seconds(ContinuousClock.now - snapshotStarted)
    store!.close()
    store = nil

    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["--rss", dir]
    let pipe = Pipe()
    child.standardOutput = pipe
    try child.run()
    child.waitUntilExit()
    let rssFields = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
    let rss = Int(rssFields[0]) ?? 0, trimmed = Int(rssFields[2]) ?? 0

    started = ContinuousClock.now
    let warm = try Store(dataDirectory: dir, options: options, logger: logger)
    let snapshotStartSeconds = seconds(ContinuousClock.now - started)

    // Get and list latency, in process (no HTTP): lookup plus the response's JSON bytes.
    let ids = warm.read { Array($0.mappings.keys) }
    var gets: [Double] = []
    for _ in 0..<min(100_000, ids.count * 2) {
        let id = ids.randomElement()!
        let t = ContinuousClock.now
        var bytes: [UInt8] = []
        warm.read { $0.mappings[id] }!.writeResponse(to: &bytes)
        precondition(!bytes.isEmpty)
        gets.append(seconds(ContinuousClock.now - t))
    }
    var lists: [Double] = []
    let created = warm.read { $0.all.map(\.createdSequence) }
    for _ in 0..<2000 {
        // A marker from a real page boundary: the creation sequence of some mapping.
        let after = created.randomElement()!
        let t = ContinuousClock.now
        let page = warm.read { $0.page(eventSourceArn: nil, functionArn: nil, after: after, limit: 100) }
        var bytes: [UInt8] = [UInt8(ascii: "[")]  // as the server writes a page
        for (i, m) in page.mappings.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            m.writeResponse(to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        precondition(bytes.count > 0)
        lists.append(seconds(ContinuousClock.now - t))
    }
    warm.close()
    let logBytes = try FileManager.default.contentsOfDirectory(atPath: Store.logDirectory(dir)).reduce(0) {
        $0 + ((try? FileManager.default.attributesOfItem(atPath: Store.logDirectory(dir) + "/" + $1)[.size] as? Int) ?? 0)
    }
    print("""
    \(events) events, \(mappings) mappings, log \(logBytes / 1024) KiB
      cold replay (no snapshot): \(String(format: "%.3f", coldSeconds)) s = \(String(format: "%.0f", Double(events) / coldSeconds)) events/s
      snapshot written in \(String(format: "%.3f", snapshotSeconds)) s; start-up from it: \(String(format: "%.3f", snapshotStartSeconds)) s
      RSS of the state (fresh process, start-up from the snapshot): \(rss / 1024) KiB = \(mappings > 0 ? rss / mappings : 0) bytes per mapping; after malloc_trim: \(mappings > 0 ? trimmed / mappings : 0) bytes per mapping
      get (lookup + response JSON): p50 \(String(format: "%.1f", percentile(gets, 0.5) * 1e6)) µs, p99 \(String(format: "%.1f", percentile(gets, 0.99) * 1e6)) µs
      list page of 100 (+ JSON): p50 \(String(format: "%.1f", percentile(lists, 0.5) * 1e6)) µs, p99 \(String(format: "%.1f", percentile(lists, 0.99) * 1e6)) µs
    """)
}
