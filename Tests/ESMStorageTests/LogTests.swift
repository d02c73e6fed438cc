import ESMCore
import Foundation
import Testing
@testable import ESMStorage

@Suite struct LogTests {
    /// Ranged reads, and a read that leaves a range out, give the file's bytes where they read.
    @Test func readsOfPartsOfAFileGiveItsBytes() throws {
        let dir = TempDirectory()
        let path = dir.path + "/f"
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fs = POSIXFileSystem()
        #expect(try fs.read(path, offset: 9_990, count: 100) == Array(bytes[9_990...]))
        #expect(try fs.read(path, offset: 96, count: 4) == Array(bytes[96..<100]))
        #expect(try fs.read(path, offset: 20_000, count: 4).isEmpty)
        for skipped in [96..<9_000, 0..<0, 96..<96, 5_000..<20_000] {
            let read = try fs.read(path, skipping: skipped)
            #expect(read.count == bytes.count)
            for part in [0..<min(skipped.lowerBound, bytes.count), min(skipped.upperBound, bytes.count)..<bytes.count] {
                #expect(read[part] == bytes[part], "\(skipped): \(part)")
            }
        }
    }

    @Test func reopenReplaysEveryAcknowledgedEvent() async throws {
        let dir = TempDirectory()
        let shown = try await makeLog(dir, count: 20)
        let store = try openStore(dir)
        #expect(store.responses == shown)
        #expect(store.head.sequence == 20)
        store.close()
    }

    @Test func smallSegmentsRollOverSealedAndChained() async throws {
        let dir = TempDirectory()
        let shown = try await makeLog(dir, count: 60, segmentSizeBytes: 4096)
        let names = try dir.segments()
        #expect(names.count > 3)
        let scan = try LogScanner(directory: dir.wal).scan()
        #expect(scan.problems.isEmpty)
        let allSealed = scan.segments.dropLast().allSatisfy(\.sealed)
        #expect(allSealed)
        #expect(scan.lastSequence == 60)
        for (i, name) in names.enumerated() {
            let parsed = try #require(LogFormat.parseSegmentName(name))
            #expect(parsed.index == UInt64(i + 1))
            #expect(parsed.firstSequence == scan.segments[i].header?.firstSequence)
        }
        let store = try openStore(dir, segmentSizeBytes: 4096)
        #expect(store.responses == shown)
        try await store.create(61)
        store.close()
        #expect(try LogScanner(directory: dir.wal).scan().problems.isEmpty)
    }

    @Test func groupCommitAnswersEveryConcurrentWriterOnceDurable() async throws {
        let dir = TempDirectory()
        let store = try openStore(dir)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 1...64 { group.addTask { try await store.create(i) } }
            try await group.waitForAll()
        }
        #expect(store.head.sequence == 64)
        let shown = store.responses
        store.close()
        let scan = try LogScanner(directory: dir.wal).scan()
        #expect(scan.problems.isEmpty && scan.lastSequence == 64)
        // Group commit wrote fewer records than events when writers overlapped; never more.
        #expect(scan.segments.reduce(0) { $0 + $1.records } <= 64)
        #expect(try openStore(dir).responses == shown)
    }

    @Test func tornTailIsCutToTheLastWholeRecordAtEveryByte() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 4)
        let name = try #require(try dir.segments().last)
        let original = try dir.bytes(name)
        let last = try #require(recordOffsets(original).last)
        let expected: [JSON] = try {
            var p = Projection()
            _ = try LogScanner(directory: dir.wal).scan(through: 3) { try p.apply($0) }
            return p.all.map(\.response)
        }()
        for cut in (last + 1)..<original.count {
            try dir.write(name, Array(original[0..<cut]))
            let scan = try LogScanner(directory: dir.wal).scan()
            let torn = try #require(scan.tornTail, "cut at \(cut)")
            #expect(torn.offset == last)
            let store = try openStore(dir)
            #expect(store.head.sequence == 3)
            #expect(store.responses == expected)
            store.close()
            #expect(try dir.bytes(name).count == last)
            #expect(FileManager.default.fileExists(atPath: "\(dir.wal)/\(name).torn-\(last)"))
            try FileManager.default.removeItem(atPath: "\(dir.wal)/\(name).torn-\(last)")
        }
    }

    @Test func zeroedTailIsTorn() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 3)
        let name = try #require(try dir.segments().last)
        var bytes = try dir.bytes(name)
        let last = try #require(recordOffsets(bytes).last)
        for i in last..<bytes.count { bytes[i] = 0 }
        bytes += [UInt8](repeating: 0, count: 4096)
        try dir.write(name, bytes)
        let store = try openStore(dir)
        #expect(store.head.sequence == 2)
        store.close()
    }

    @Test func corruptedMiddleRecordIsRefusedWithFileAndOffset() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 5)
        let name = try #require(try dir.segments().last)
        var bytes = try dir.bytes(name)
        let second = recordOffsets(bytes)[1]
        bytes[second + 60] ^= 0x01
        try dir.write(name, bytes)
        do {
            _ = try openStore(dir)
            Issue.record("a corrupt log was opened")
        } catch let error as StorageError {
            #expect(error.code == .corruption)
            #expect(error.message.contains(name))
            #expect(error.message.contains("offset \(second)"))
        }
        // Nothing was cut: the damaged file is left as it was for the operator.
        #expect(try dir.bytes(name) == bytes)
    }

    @Test func everyBitFlipOfASmallSegmentIsDetected() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 3)
        let name = try #require(try dir.segments().last)
        let original = try dir.bytes(name)
        var undetected: [Int] = []
        for bit in 0..<(original.count * 8) {
            var bytes = original
            bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            try dir.write(name, bytes)
            let scan = try LogScanner(directory: dir.wal).scan()
            if scan.corruption.isEmpty { undetected.append(bit) }
        }
        #expect(undetected.isEmpty, "bits not detected as corruption: \(undetected.prefix(20))")
    }

    @Test func swappedRecordsAreDetected() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 4)
        let name = try #require(try dir.segments().last)
        let bytes = try dir.bytes(name)
        let o = recordOffsets(bytes)
        let a = Array(bytes[o[1]..<o[2]]), b = Array(bytes[o[2]..<o[3]])
        try dir.write(name, Array(bytes[0..<o[1]]) + b + a + Array(bytes[o[3]...]))
        #expect(!(try LogScanner(directory: dir.wal).scan().corruption.isEmpty))
        #expect(throws: StorageError.self) { try openStore(dir) }
    }

    @Test func editedBodyWithRecomputedChecksumBreaksTheChain() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 3)
        let name = try #require(try dir.segments().last)
        var bytes = try dir.bytes(name)
        let header = try SegmentHeader.decode(bytes[...]).get()
        let o = recordOffsets(bytes)[1]
        let length = Int(bytes.readLE(UInt32.self, at: o))
        // Re-encode the record's body with BatchSize changed, keeping its stored chain link, and
        // give it a valid CRC: what a careful tamperer without the chain would do.
        let codec = RecordCodec(salt: header.salt, segmentFirstSequence: header.firstSequence, zstd: Zstd())
        let previous = try codec.decode(bytes, at: recordOffsets(bytes)[0], previous: header.previousHash, dictionary: nil).get().hash
        let record = try codec.decode(bytes, at: o, previous: previous, dictionary: nil).get()
        let text = String(decoding: record.body, as: UTF8.self).replacingOccurrences(of: "\"BatchSize\":10", with: "\"BatchSize\":99")
        let body = Array(text.utf8)
        #expect(body != record.body)
        let packed = Zstd().compress(body)
        let newLength = LogFormat.recordHeaderSize + packed.count
        var forged = Array(bytes[o..<(o + LogFormat.recordHeaderSize)])
        forged.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(newLength).littleEndian, Array.init))
        forged.replaceSubrange(8..<10, with: withUnsafeBytes(of: RecordCodec.lengthCheck(newLength).littleEndian, Array.init))
        forged += packed
        let crc = codec.checksum(forged[...])
        forged.replaceSubrange(4..<8, with: withUnsafeBytes(of: crc.littleEndian, Array.init))
        bytes = Array(bytes[0..<o]) + forged + Array(bytes[(o + length)...])
        try dir.write(name, bytes)
        let scan = try LogScanner(directory: dir.wal).scan()
        let problem = try #require(scan.corruption.first)
        #expect(problem.reason == "hash chain mismatch")
        #expect(problem.offset == o)
    }

    @Test func deletedMiddleSegmentIsDetected() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 40, segmentSizeBytes: 4096)
        let names = try dir.segments()
        try #require(names.count >= 3)
        try FileManager.default.removeItem(atPath: dir.wal + "/" + names[1])
        let scan = try LogScanner(directory: dir.wal).scan()
        #expect(scan.corruption.contains { $0.file == names[2] })
        #expect(throws: StorageError.self) { try openStore(dir, segmentSizeBytes: 4096) }
    }

    @Test func failedWriteAcknowledgesNothingAndAppendsResumeAfterward() async throws {
        let dir = TempDirectory()
        let fs = FailingFileSystem()
        let store = try openStore(dir, fileSystem: fs)
        try await store.create(1)
        let before = store.responses
        fs.failing = true
        await #expect(throws: AWSError.self) { try await store.create(2) }
        #expect(store.responses == before)
        #expect(store.head.sequence == 1)
        fs.failing = false
        try await store.create(3)
        #expect(store.head.sequence == 2)
        let shown = store.responses
        store.close()
        #expect(try LogScanner(directory: dir.wal).scan().problems.isEmpty)
        #expect(try openStore(dir).responses == shown)
    }
}


@Suite struct RecoveryTableTests {
    @Test func zeroedSectorBeforeValidRecordsIsCorruption() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 30)
        let name = try #require(try dir.segments().last)
        var bytes = try dir.bytes(name)
        try #require(bytes.count > 4 * LogFormat.sectorSize)
        for i in 1024..<1536 { bytes[i] = 0 }
        try dir.write(name, bytes)
        let scan = try LogScanner(directory: dir.wal).scan()
        #expect(scan.tornTail == nil)
        #expect(!scan.corruption.isEmpty)
        #expect(throws: StorageError.self) { try openStore(dir) }
    }

    @Test func lastRecordZeroedFromASectorBoundaryIsATornTail() async throws {
        let dir = TempDirectory()
        let store = try openStore(dir)
        try await store.create(1)
        // A last record that spans sector boundaries: a create with many distinct tags.
        var tags = JSONObject()
        var rng = SystemRandomNumberGenerator()
        for i in 0..<Decider.tagsMax { tags["tag\(i)"] = .string((0..<3).map { _ in String(rng.next(), radix: 36) }.joined()) }
        _ = try await store.perform(uuid: uuid(2), now: EventTime(milliseconds: 1_700_000_000_000)) { view, time in
            Decider.create(body: ["EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:big", "FunctionName": "fn", "Tags": .object(tags)],
                           uuid: uuid(2), context: CommandContext(time: time, actor: testActor, account: "123456789012"), state: view)
                .map { Optional($0) }
        }
        store.close()
        let name = try #require(try dir.segments().last)
        var bytes = try dir.bytes(name)
        let last = try #require(recordOffsets(bytes).last)
        let boundary = (last / LogFormat.sectorSize + 1) * LogFormat.sectorSize
        try #require(bytes.count - boundary >= 64, "the last record must cross a sector boundary")
        for i in boundary..<bytes.count { bytes[i] = 0 }
        try dir.write(name, bytes)
        #expect(try LogScanner(directory: dir.wal).scan().tornTail?.offset == last)
        let reopened = try openStore(dir)
        #expect(reopened.head.sequence == 1)
        reopened.close()
    }

    @Test func repairKeepsTheChosenPrefixMovesTheRestAsideAndJournalsIt() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 40, segmentSizeBytes: 4096)
        let names = try dir.segments()
        try #require(names.count >= 3)
        // Damage the second segment's third record.
        var bytes = try dir.bytes(names[1])
        let offsets = recordOffsets(bytes)
        bytes[offsets[2] + 30] ^= 0x40
        try dir.write(names[1], bytes)
        #expect(throws: StorageError.self) { try openStore(dir, segmentSizeBytes: 4096) }

        let scan = try LogScanner(directory: dir.wal).scan(collectBoundaries: true)
        let keep = try #require(scan.segments[1].boundaries.last?.lastSequence)
        let repair = LogRepair(directory: dir.wal, logger: quietLogger)
        #expect(throws: StorageError.self) { try repair.truncate(after: keep + 100, now: EventTime(milliseconds: 0)) }
        let outcome = try repair.truncate(after: keep, now: EventTime(milliseconds: 0))
        #expect(outcome.keptSequence == keep)
        #expect(outcome.moved.count == 1 + (names.count - 2))
        let after = try LogScanner(directory: dir.wal).scan()
        #expect(after.problems.isEmpty && after.lastSequence == keep)
        #expect(after.headHash == outcome.headHash)
        let journal = try String(contentsOfFile: dir.wal + "/" + LogRepair.journalName, encoding: .utf8)
        #expect(journal.contains("\"KeptThroughSequence\":\(keep)"))
        for m in outcome.moved { #expect(FileManager.default.fileExists(atPath: m)) }
        let store = try openStore(dir, segmentSizeBytes: 4096)
        #expect(store.head.sequence == keep)
        try await store.create(1000)
        store.close()
        #expect(try LogScanner(directory: dir.wal).scan().problems.isEmpty)
    }
}
