import ESMCore
import Foundation
import Logging
@testable import ESMStorage

/// A fresh folder under the system temp folder, removed when the test ends.
final class TempDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "esmlog-test-" + UUID().uuidString.lowercased()
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var wal: String { Store.logDirectory(path) }

    func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: wal).filter { $0.hasSuffix(".seg") }.sorted()
    }

    func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: wal + "/" + name))) }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: wal + "/" + name))
    }
}

let quietLogger: Logger = {
    var l = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    l.logLevel = .critical
    return l
}()

let testActor = Actor(accessKeyId: "AKIDTEST", sourceIp: "127.0.0.1", userAgent: "tests", requestId: "r", region: "us-east-1")

func uuid(_ n: Int) -> String {
    let hex = String(n, radix: 16)
    return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
}

extension Store {
    /// Creates mapping `n` through the decider, as the API would.
    @discardableResult
    func create(_ n: Int, at ms: Int64 = 1_700_000_000_000) async throws -> Mapping? {
        let id = uuid(n)
        return try await perform(uuid: id, now: EventTime(milliseconds: ms)) { view, time in
            Decider.create(body: ["EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:q\(n)"), "FunctionName": "fn"],
                           uuid: id, context: CommandContext(time: time, actor: testActor, account: "123456789012"), state: view)
                .map { Optional($0) }
        }
    }

    /// Every mapping's response, in creation order.
    var responses: [JSON] { read { $0.all.map(\.response) } }
}

func openStore(_ dir: TempDirectory, segmentSizeBytes: Int = 1 << 20, fileSystem: any FileSystem = POSIXFileSystem()) throws -> Store {
    var options = StoreOptions()
    options.segmentSizeBytes = segmentSizeBytes
    options.fileSystem = fileSystem
    return try Store(dataDirectory: dir.path, options: options, logger: quietLogger)
}

/// Writes `count` creates, one record each, into a fresh log and returns what the API showed.
func makeLog(_ dir: TempDirectory, count: Int, segmentSizeBytes: Int = 1 << 20) async throws -> [JSON] {
    let store = try openStore(dir, segmentSizeBytes: segmentSizeBytes)
    for i in 1...count { try await store.create(i, at: 1_700_000_000_000 + Int64(i)) }
    let shown = store.responses
    store.close()
    return shown
}

/// Record start offsets of a segment's bytes.
func recordOffsets(_ bytes: [UInt8]) -> [Int] {
    var out: [Int] = []
    var o = LogFormat.segmentHeaderSize
    while o + 4 <= bytes.count {
        let length = Int(bytes.readLE(UInt32.self, at: o))
        guard length >= LogFormat.recordHeaderSize else { break }
        out.append(o)
        o += length
    }
    return out
}

/// The real file system, with a hook around every file it opens; tests override what they need.
class ForwardingFileSystem: FileSystem, @unchecked Sendable {
    let base = POSIXFileSystem()

    func wrap(_ file: any LogFile) -> any LogFile { file }

    func list(_ directory: String) throws(StorageError) -> [String] { try base.list(directory) }
    func read(_ path: String) throws(StorageError) -> [UInt8] { try base.read(path) }
    func read(_ path: String, offset: Int, count: Int) throws(StorageError) -> [UInt8] { try base.read(path, offset: offset, count: count) }
    func read(_ path: String, skipping skipped: Range<Int>) throws(StorageError) -> [UInt8] { try base.read(path, skipping: skipped) }
    func exists(_ path: String) -> Bool { base.exists(path) }
    func create(_ path: String) throws(StorageError) -> any LogFile { wrap(try base.create(path)) }
    func open(_ path: String) throws(StorageError) -> any LogFile { wrap(try base.open(path)) }
    func rename(_ from: String, _ to: String) throws(StorageError) { try base.rename(from, to) }
    func remove(_ path: String) throws(StorageError) { try base.remove(path) }
    func makeDirectory(_ path: String) throws(StorageError) { try base.makeDirectory(path) }
    func syncDirectory(_ path: String) throws(StorageError) { try base.syncDirectory(path) }
    func lockExclusive(_ path: String) throws(StorageError) -> any FolderLock { try base.lockExclusive(path) }
    func lockHolder(_ path: String) -> LockHolder? { base.lockHolder(path) }
}

/// A file system whose writes fail while `failing` is set, as a full disk does, and whose
/// file syncs fail while `failingSync` is set, as a disk with an I/O error does.
final class FailingFileSystem: ForwardingFileSystem, @unchecked Sendable {
    private let lock = NSLock()
    private var _failing = false
    private var _failingSync = false
    var failing: Bool {
        get { lock.withLock { _failing } }
        set { lock.withLock { _failing = newValue } }
    }
    var failingSync: Bool {
        get { lock.withLock { _failingSync } }
        set { lock.withLock { _failingSync = newValue } }
    }

    override func wrap(_ file: any LogFile) -> any LogFile { FailingFile(file, self) }
}

final class FailingFile: LogFile {
    let file: any LogFile
    let fs: FailingFileSystem
    init(_ file: any LogFile, _ fs: FailingFileSystem) {
        self.file = file
        self.fs = fs
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        if fs.failing {
            // Half the record reaches the file before the disk fills up.
            try file.write(Array(bytes.prefix(bytes.count / 2)), at: offset)
            throw StorageError(.io, "write: No space left on device", errno: 28)
        }
        try file.write(bytes, at: offset)
    }
    func sync() throws(StorageError) {
        if fs.failingSync { throw StorageError(.io, "fdatasync: Input/output error", errno: 5) }
        try file.sync()
    }
    func truncate(to size: Int) throws(StorageError) { try file.truncate(to: size) }
    func close() { file.close() }
}
