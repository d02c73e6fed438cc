import ESMCore
import Foundation

extension Projection {
    /// The replay document (`document(mapping:)`) written on every core and handed to `emit` in
    /// order, a run of about `runLength` mappings at a time: each core writes one run of a round
    /// into a buffer of its own, used again in the next round, so the document is never held
    /// whole and its pages are not faulted in afresh (at 100,000 mappings it is 64 MB).
    public func writeDocumentOnEveryCore(mapping: String? = nil, runLength: Int = 2048,
                                         emit: ([UInt8]) throws -> Void) rethrows {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        // `documentPieces` keeps the runs between one and the mappings the document holds. Its
        // UUID order is sorted in a part per core, then merged.
        let pieces = documentPieces(mapping: mapping, count: mappings.count / max(1, runLength), sortParts: cores) { n, body in
            Slots.concurrentMap(n, body)
        }
        let buffers = Slots<[UInt8]>(count: cores)
        var first = 0
        while first < pieces.count {
            let round = min(cores, pieces.count - first), base = first
            DispatchQueue.concurrentPerform(iterations: round) { j in
                var buffer = buffers.take(j) ?? []
                buffer.removeAll(keepingCapacity: true)
                pieces.write(base + j, to: &buffer)
                buffers[j] = buffer
            }
            for j in 0..<round { try emit(buffers[j]!) }
            first += round
        }
    }
}
