import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// A file system that misbehaves on a seeded schedule: writes fail (ENOSPC), write only part of
/// their bytes and fail, fsync fails, or the machine "crashes" in the middle of a write (part of
/// the bytes reach the file and nothing else happens: no clean-up, no further writes).
final class FaultyFileSystem: ForwardingFileSystem, @unchecked Sendable {
    private let lock = NSLock()
    private var rng: SeededGenerator
    private(set) var crashed = false
    var faults: [String: Int] = [:]
    /// Out of 1000 writes (and syncs).
    let faultPerMille: Int

    init(seed: UInt64, faultPerMille: Int) {
        rng = SeededGenerator(state: seed)
        self.faultPerMille = faultPerMille
    }

    /// What the next operation does: nil to behave.
    func draw(_ kinds: [String]) -> String? {
        lock.withLock {
            guard !crashed else { return "dead" }
            guard Int.random(in: 0..<1000, using: &rng) < faultPerMille else { return nil }
            let k = kinds.randomElement(using: &rng)!
            faults[k, default: 0] += 1
            if k == "crash" { crashed = true }
            return k
        }
    }

    func cut(_ n: Int) -> Int { lock.withLock { Int.random(in: 0..<max(n, 1), using: &rng) } }

    override func wrap(_ file: any LogFile) -> any LogFile { FaultyFile(file, self) }

    override func rename(_ from: String, _ to: String) throws(StorageError) {
        if crashed { throw StorageError(.io, "crashed") }
        try base.rename(from, to)
    }

    override func syncDirectory(_ path: String) throws(StorageError) {
        if crashed { throw StorageError(.io, "crashed") }
        try base.syncDirectory(path)
    }
}

final class FaultyFile: LogFile {
    let file: any LogFile
    let fs: FaultyFileSystem

    init(_ file: any LogFile, _ fs: FaultyFileSystem) {
        self.file = file
        self.fs = fs
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        switch fs.draw(["enospc", "short", "crash"]) {
        case nil: try file.write(bytes, at: offset)
        case "enospc": throw StorageError(.io, "write: No space left on device", errno: 28)
        case "short":
            try file.write(Array(bytes.prefix(fs.cut(bytes.count))), at: offset)
            throw StorageError(.io, "write: Input/output error", errno: 5)
        case "crash":
            try file.write(Array(bytes.prefix(fs.cut(bytes.count))), at: offset)
            throw StorageError(.io, "crashed")
        default: throw StorageError(.io, "crashed")
        }
    }

    func sync() throws(StorageError) {
        switch fs.draw(["fsync"]) {
        case nil: try file.sync()
        default: throw StorageError(.io, "fdatasync: Input/output error", errno: 5)
        }
    }

    func truncate(to size: Int) throws(StorageError) {
        if fs.crashed { throw StorageError(.io, "crashed") }
        try file.truncate(to: size)
    }

    func close() { file.close() }
}

@Suite struct FaultInjectionTests {
    static let seeds: [UInt64] = Array(100..<116)

    @Test(arguments: seeds)
    func acknowledgedMutationsSurviveFaultsAndCrashes(seed: UInt64) async throws {
        let dir = TempDirectory()
        let fs = FaultyFileSystem(seed: seed, faultPerMille: 40)
        var options = StoreOptions()
        options.fileSystem = fs
        options.segmentSizeBytes = 4096
        let store = try Store(dataDirectory: dir.path, options: options, logger: quietLogger)
        var acknowledged: [String: Int] = [:]  // uuid -> BatchSize acknowledged last
        var rejected = 0
        for i in 1...150 {
            let id = uuid(i)
            let batch = 1 + i % 9
            do {
                let m = try await store.perform(uuid: id, now: EventTime(milliseconds: 1_790_000_000_000 + Int64(i))) { view, time in
                    Decider.create(body: ["EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:q\(i)"), "FunctionName": "fn",
                                          "BatchSize": .number(Double(batch))],
                                   uuid: id, context: CommandContext(time: time, actor: testActor, account: "123456789012"), state: view)
                        .map { Optional($0) }
                }
                #expect(m?.configuration["BatchSize"] == .number(Double(batch)))
                acknowledged[id] = batch
            } catch {
                rejected += 1
                // What was refused must not be visible.
                #expect(store.read { $0.mappings[id] } == nil, "seed \(seed): a failed write is visible")
            }
        }
        store.close()
        // Reopen on the real file system, as after a restart: torn tails are cut, nothing else.
        let reopened = try openStore(dir, segmentSizeBytes: 4096)
        let state = reopened.read { $0.mappings }
        reopened.close()
        for (id, batch) in acknowledged {
            #expect(state[id]?.configuration["BatchSize"] == .number(Double(batch)), "seed \(seed): lost acknowledged \(id)")
        }
        #expect(Set(state.keys) == Set(acknowledged.keys), "seed \(seed): unacknowledged mappings present")
        let scan = try LogScanner(directory: dir.wal).scan()
        #expect(scan.problems.isEmpty, "seed \(seed): \(scan.problems)")
        print("fault injection seed \(seed): \(acknowledged.count) acknowledged, \(rejected) refused, faults \(fs.faults.sorted { $0.key < $1.key }), crashed \(fs.crashed)")
    }
}
