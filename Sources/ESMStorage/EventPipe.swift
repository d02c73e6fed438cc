import ESMCore
import Foundation

/// Events handed in order from the thread that scans the log (reading ahead, checking
/// checksums, linking the chain) to the one that applies them, in chunks, with at most
/// `capacity` chunks waiting: so a scan can run while a snapshot is restored, and checking the
/// log overlaps applying it.
final class EventPipe: @unchecked Sendable {  // mutable state is guarded by `condition`
    private let condition = NSCondition()
    private var chunks: [[StateEvent]] = []
    private var next = 0
    private var ended = false
    private var stopped = false
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Hands a chunk on, waiting while `capacity` chunks wait. False once the taker has stopped:
    /// the scan should stop then.
    func put(_ chunk: [StateEvent]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count - next >= capacity && !stopped { condition.wait() }
        guard !stopped else { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }

    /// No more chunks come.
    func end() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk, waiting for it; nil once the scan has ended and every chunk is taken.
    func take() -> [StateEvent]? {
        condition.lock()
        defer { condition.unlock() }
        while next == chunks.count && !ended { condition.wait() }
        guard next < chunks.count else { return nil }
        let chunk = chunks[next]
        chunks[next] = []
        next += 1
        if next > 64 {
            chunks.removeFirst(next)
            next = 0
        }
        condition.broadcast()
        return chunk
    }

    /// The taker wants no more: a waiting `put` returns false, and so does every later one.
    func stop() {
        condition.lock()
        stopped = true
        chunks = []
        next = 0
        condition.broadcast()
        condition.unlock()
    }
}
