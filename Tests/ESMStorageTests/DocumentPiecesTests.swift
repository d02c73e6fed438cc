import ESMCore
@testable import ESMStorage
import Testing

@Suite struct DocumentPiecesTests {
    /// The document written on every core is, piece after piece, the document written in one
    /// piece: for every mapping, for one, and for none.
    @Test func piecesWrittenOnEveryCoreAreTheDocument() async throws {
        let dir = TempDirectory()
        let store = try openStore(dir)
        for i in 1...57 { try await store.create(i, at: 1_700_000_000_000 + Int64(i)) }
        let projection = store.read { $0 }
        store.close()
        for mapping in [nil, uuid(9), uuid(1000)] {
            let pieces = projection.documentOnEveryCore(mapping: mapping)
            #expect(pieces.flatMap { $0 } == projection.document(mapping: mapping), "\(mapping ?? "all")")
        }
        #expect(try JSON.parse(projection.documentOnEveryCore().flatMap { $0 })["EventSourceMappings"]?.arrayValue?.count == 57)
        #expect(Projection().documentOnEveryCore().flatMap { $0 } == Projection().document())
    }
}
