import ESMCore
import Foundation

extension Projection {
    /// The replay document (`document(mapping:)`) written on every core: its pieces, in order,
    /// each written by a thread of its own. Their bytes one after another are the document.
    public func documentOnEveryCore(mapping: String? = nil) -> [[UInt8]] {
        let pieces = documentPieces(mapping: mapping, count: mapping == nil ? ProcessInfo.processInfo.activeProcessorCount : 1)
        let written = Slots<[UInt8]>(count: pieces.count)
        DispatchQueue.concurrentPerform(iterations: pieces.count) { k in written[k] = pieces.write(k) }
        return (0..<pieces.count).map { written.take($0)! }
    }
}
