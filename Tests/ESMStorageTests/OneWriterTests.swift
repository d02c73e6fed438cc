import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// One writer per data folder, and no write acknowledged that the disk did not confirm.
@Suite struct OneWriterTests {
    @Test func aSecondStoreOnTheSameFolderIsRefusedAtOnceAndTheFirstKeepsWriting() async throws {
        let dir = TempDirectory()
        let first = try openStore(dir)
        try await first.create(1)
        #expect(DataFolder.holder(dir.path) == LockHolder(pid: getpid()))
        let error = try #require(throws: StorageError.self) { try openStore(dir) }
        #expect(error.code == .locked)
        #expect(error.message.contains(dir.path) && error.message.contains("pid \(getpid())"), "\(error.message)")
        // The refused store wrote nothing and the first goes on.
        try await first.create(2)
        first.close()
        #expect(DataFolder.holder(dir.path) == nil)
        let reopened = try openStore(dir)
        #expect(reopened.read { $0.mappings.count } == 2)
        reopened.close()
    }

    @Test func theLockIsHeldUntilTheShutdownSnapshotIsWritten() async throws {
        let dir = TempDirectory()
        let store = try openStore(dir)
        try await store.create(1)
        store.close(snapshot: true)
        #expect(DataFolder.holder(dir.path) == nil)
        #expect(try SnapshotStore(directory: SnapshotStore.directory(dir.path)).list().count == 1)
    }

    @Test func aFailedFsyncRefusesEveryLaterWriteKeepsReadsAndARestartRecovers() async throws {
        let dir = TempDirectory()
        let fs = FailingFileSystem()
        let store = try openStore(dir, fileSystem: fs)
        try await store.create(1)
        fs.failingSync = true
        await #expect(throws: AWSError.self) { try await store.create(2) }
        fs.failingSync = false
        // The disk answers again, but what it dropped after the failed sync is unknown: no
        // later write may be acknowledged on top of it.
        let refused = try await #require(throws: AWSError.self) { try await store.create(3) }
        #expect(refused.status == 500 && refused.code == "ServiceException")
        #expect(store.refusingWrites != nil)
        #expect(store.read { $0.mappings[uuid(1)] } != nil, "reads go on")
        #expect(store.read { $0.mappings[uuid(2)] } == nil)
        store.close(snapshot: true)
        let reopened = try openStore(dir)
        #expect(reopened.read { Set($0.mappings.keys) } == [uuid(1)])
        try await reopened.create(4)
        reopened.close()
        #expect(try LogScanner(directory: dir.wal).scan().problems.isEmpty)
    }

    @Test func aFailedWriteThatIsTakenBackLetsLaterWritesThrough() async throws {
        let dir = TempDirectory()
        let fs = FailingFileSystem()
        let store = try openStore(dir, fileSystem: fs)
        fs.failing = true
        await #expect(throws: AWSError.self) { try await store.create(1) }
        fs.failing = false
        try await store.create(2)
        #expect(store.refusingWrites == nil)
        store.close()
        #expect(try LogScanner(directory: dir.wal).scan().problems.isEmpty)
    }

    @Test func repairMovesSnapshotsPastTheCutAside() async throws {
        let dir = TempDirectory()
        let store = try openStore(dir)
        for i in 1...5 { try await store.create(i) }
        let early = try store.snapshot()
        for i in 6...9 { try await store.create(i) }
        let late = try store.snapshot()
        store.close()
        let snapshots = SnapshotStore(directory: SnapshotStore.directory(dir.path))
        #expect(try snapshots.list().map(\.name) == [late, early])
        let outcome = try LogRepair(directory: dir.wal, snapshotDirectory: snapshots.directory, logger: quietLogger)
            .truncate(after: 7, now: EventTime(milliseconds: 0))
        #expect(try snapshots.list().map(\.name) == [early])
        #expect(outcome.moved.contains(snapshots.directory + "/" + late + ".cut"))
        #expect(FileManager.default.fileExists(atPath: snapshots.directory + "/" + late + ".cut"))
        let reopened = try openStore(dir)
        #expect(reopened.head.sequence == 7)
        #expect(reopened.status().eventsSinceSnapshot == 2)
        reopened.close()
    }

    @Test func aReaderSetsAsideTheRecordALiveWriterIsWriting() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 3)
        let name = try #require(try dir.segments().last)
        var bytes = try dir.bytes(name)
        bytes += bytes[recordOffsets(bytes).last!...].prefix(20)  // half a record at the end
        try dir.write(name, bytes)
        let scan = try LogScanner(directory: dir.wal).scan()
        #expect(scan.settingAsideLiveTail(writerLive: false).problems.count == 1)
        let live = scan.settingAsideLiveTail(writerLive: true)
        #expect(live.problems.isEmpty && live.inFlight != nil && live.lastSequence == 3)
    }
}
