import ESMCore
import ESMStorage
import Foundation
import Logging

// Durable appends through the store (decide, group commit, write, sync, apply), as the server
// does them without HTTP: N concurrent writers each creating mappings with realistic bodies.
//
//     swift run -c release --package-path tools/benchmarks StorageBenchmark [events-per-run]

let eventsPerRun = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 20_000
let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let actor = Actor(accessKeyId: "AKIDBENCH", sourceIp: "127.0.0.1",
                  userAgent: "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.43.11",
                  requestId: "", region: "us-east-1")

func body(_ n: Int) -> JSON {
    [
        "FunctionName": .string("service-\(n % 50)-handler"),
        "EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:orders-\(n)-queue"),
        "BatchSize": 10, "ScalingConfig": ["MaximumConcurrency": 10], "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": ["Filters": [["Pattern": #"{"body":{"type":["order_created","order_updated"]}}"#]]],
    ]
}

func run(writers: Int, sync: SyncMode) async throws -> (perSecond: Double, bytesPerEvent: Double, records: Int) {
    let dir = NSTemporaryDirectory() + "esmlog-bench-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var options = StoreOptions()
    options.sync = sync
    let store = try Store(dataDirectory: dir, options: options, logger: logger)
    let perWriter = eventsPerRun / writers
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for w in 0..<writers {
            group.addTask {
                for i in 0..<perWriter {
                    let n = w * 1_000_000 + i
                    let id = UUID().uuidString.lowercased()
                    var a = actor
                    a.requestId = UUID().uuidString.lowercased()
                    let caller = a
                    _ = try await store.perform(uuid: id, now: WallClock.now()) { view, time in
                        Decider.create(body: body(n), uuid: id, context: CommandContext(time: time, actor: caller, account: "123456789012"), state: view)
                            .map { Optional($0) }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - started
    store.close()
    let scan = try LogScanner(directory: Store.logDirectory(dir)).scan()
    let bytes = scan.segments.reduce(0) { $0 + $1.fileSize }
    let events = scan.segments.reduce(0) { $0 + $1.events }
    let records = scan.segments.reduce(0) { $0 + $1.records }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(events) / seconds, Double(bytes) / Double(events), records)
}

print("durable appends through the store, \(eventsPerRun) creates per run, \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("sync    writers   appends/s   bytes/event   events/record")
var results: [String: Double] = [:]
for sync in [SyncMode.always, .none] {
    for writers in [1, 16, 64] {
        let r = try await run(writers: writers, sync: sync)
        results["\(sync.rawValue)-\(writers)"] = r.perSecond
        let perRecord = Double(eventsPerRun / writers * writers) / Double(r.records)
        print("\(sync.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(String(format: "%7d", writers))  \(String(format: "%10.0f", r.perSecond))  \(String(format: "%12.1f", r.bytesPerEvent))  \(String(format: "%14.1f", perRecord))")
    }
}
for writers in [1, 16, 64] {
    let ratio = results["always-\(writers)"]! / results["none-\(writers)"]!
    print("always/none at \(writers) writers: \(String(format: "%.2f", ratio))")
}
