import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// Imported history in the log: appended once per eventID, and read with the same checks as
/// served history.
@Suite struct ImportedLogTests {
    static func event(_ n: Int) -> (time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord) {
        let arn = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:\(uuid(n))"
        let record = ImportedRecord(
            action: .create, eventName: "CreateEventSourceMapping20150331", eventID: "event-\(n)", requestID: nil,
            account: "123456789012", region: "us-east-1", arn: arn,
            configuration: JSONObject([("BatchSize", 10), ("EventSourceMappingArn", .string(arn))]), state: .creating,
            stateTransitionReason: "USER_INITIATED", request: JSONObject())
        return (EventTime(milliseconds: 1_700_000_000_000 + Int64(n)), uuid(n), nil, record)
    }

    @Test func anImportAppendsEachEventIDOnce() throws {
        let dir = TempDirectory()
        #expect(try ImportedLog.append([Self.event(1), Self.event(2)], dataDirectory: dir.path, logger: quietLogger).imported == 2)
        let again = try ImportedLog.append([Self.event(2), Self.event(3)], dataDirectory: dir.path, logger: quietLogger)
        #expect((again.imported, again.duplicates, again.lastSequence) == (1, 1, 3))
        let (state, _) = try TimeTravel.state(dataDirectory: dir.path, at: .head, logger: quietLogger)
        #expect(Set(state.mappings.keys) == [uuid(1), uuid(2), uuid(3)])
    }

    @Test func timeTravelOnImportedHistoryRefusesACorruptLog() throws {
        let dir = TempDirectory()
        _ = try ImportedLog.append([Self.event(1)], dataDirectory: dir.path, logger: quietLogger)
        _ = try ImportedLog.append([Self.event(2)], dataDirectory: dir.path, logger: quietLogger)
        let name = try #require(try dir.segments().last)
        var bytes = try dir.bytes(name)
        let second = try #require(recordOffsets(bytes).last)
        bytes[second + 30] ^= 0x40
        try dir.write(name, bytes)
        #expect(throws: StorageError.self) { try TimeTravel.state(dataDirectory: dir.path, at: .head, logger: quietLogger) }
    }
}
