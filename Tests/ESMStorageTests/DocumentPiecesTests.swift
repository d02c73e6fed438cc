import ESMCore
@testable import ESMStorage
import Testing

@Suite struct DocumentPiecesTests {
    /// The document written on every core, run after run, is the document written in one piece:
    /// for every mapping, for one and for none, in runs shorter, as long as and longer than the
    /// log's, and with more runs than a round of cores.
    @Test func runsWrittenOnEveryCoreAreTheDocument() async throws {
        let dir = TempDirectory()
        let store = try openStore(dir)
        for i in 1...57 { try await store.create(i, at: 1_700_000_000_000 + Int64(i)) }
        let projection = store.read { $0 }
        store.close()
        for mapping in [nil, uuid(9), uuid(1000)] {
            for runLength in [1, 5, 56, 57, 2048] {
                var written: [UInt8] = []
                var runs = 0
                projection.writeDocumentOnEveryCore(mapping: mapping, runLength: runLength) {
                    written += $0
                    runs += 1
                }
                #expect(written == projection.document(mapping: mapping), "\(mapping ?? "all") \(runLength)")
                #expect(runs == (mapping == nil ? max(1, 57 / runLength) : 1) + 1)
            }
        }
        var empty: [UInt8] = []
        Projection().writeDocumentOnEveryCore { empty += $0 }
        #expect(empty == Projection().document())
    }
}
