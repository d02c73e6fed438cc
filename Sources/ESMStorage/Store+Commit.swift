import ESMCore
import Foundation

/// Deciding, group commit, and following a shared log.
///
/// Requests are decided on the commit thread's lock against the durable state plus the overlay,
/// and queued. The commit thread takes everything queued, appends it as one record, and applies
/// it once durable. On a log other processes append to, an append can come back `.stale`: the
/// thread then reads the other writers' records, applies them, and decides every waiting request
/// again against the state they made, so decisions are taken in the log's one order on every node.
extension Store {
    /// Decides a change against the current state, appends it durably, and returns the mapping
    /// after it (nil when it was removed).
    /// - Parameters:
    ///   - uuid: the mapping the decision is about.
    ///   - now: the wall-clock time; the event's time is never earlier than the last event's.
    ///   - decide: the core's decision; `.success(nil)` means nothing changes and the answer is
    ///     the mapping as it is.
    /// - Throws: the decision's `AWSError`, or a `ServiceException` when the write failed.
    public func perform(uuid: String, now: EventTime, _ decide: @escaping (any MappingLookup, EventTime) -> Result<Decision?, AWSError>) async throws -> Mapping? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Mapping?, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            enqueue(Request(uuid: uuid, now: now, decide: decide) { continuation.resume(with: $0) })
        }
    }

    /// Decides for each of `uuids` in turn, as `perform` does for one, under a single lock; the
    /// accepted changes go into the log together. Returns when every change is durable or has
    /// failed, with the failures.
    public func performEach(_ uuids: [String], now: EventTime,
                            _ decide: @escaping (String, any MappingLookup, EventTime) -> Result<Decision?, AWSError>) async -> [(String, any Error)] {
        guard !uuids.isEmpty else { return [] }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[(String, any Error)], Never>) in
            let gather = Gather(count: uuids.count, continuation: continuation)
            condition.lock()
            defer { condition.unlock() }
            for uuid in uuids {
                enqueue(Request(uuid: uuid, now: now, decide: { decide(uuid, $0, $1) }) { result in
                    if case .failure(let error) = result { gather.finish((uuid, error)) } else { gather.finish(nil) }
                })
            }
        }
    }

    /// Collects the outcomes of `performEach` and resumes its caller after the last one.
    final class Gather: @unchecked Sendable {  // guarded by `lock`
        let lock = NSLock()
        var remaining: Int
        var failures: [(String, any Error)] = []
        let continuation: CheckedContinuation<[(String, any Error)], Never>

        init(count: Int, continuation: CheckedContinuation<[(String, any Error)], Never>) {
            remaining = count
            self.continuation = continuation
        }

        func finish(_ failure: (String, any Error)?) {
            lock.lock()
            if let failure { failures.append(failure) }
            remaining -= 1
            let last = remaining == 0
            lock.unlock()
            if last { continuation.resume(returning: failures) }
        }
    }

    /// Decides one request against the durable state plus the overlay and queues its event.
    /// Called with `condition` locked.
    func enqueue(_ request: Request) {
        guard !stopping else {
            request.done(.failure(AWSError.service("The service is shutting down.")))
            return
        }
        if let writesRefused {
            request.done(.failure(AWSError.service(writesRefused)))
            return
        }
        if unreachable {
            request.done(.failure(AWSError.service(Store.unreachableLog)))
            return
        }
        let view = OverlayView(store: self)
        let time = max(request.now, lastTime)
        switch request.decide(view, time) {
        case .failure where writer.isShared && !request.current:
            unconfirmed.append(request)
            condition.signal()
        case .failure(let error):
            request.done(.failure(error))
        case .success(nil):
            request.done(.success(view.mapping(request.uuid)))
        case .success(let decision?):
            let event = decision.event(sequence: nextSequence)
            let after: Mapping?
            do { after = try Projector.next(view.mapping(decision.uuid), event) } catch {
                request.done(.failure(AWSError.service("Internal error: \(error)")))
                return
            }
            nextSequence += 1
            lastTime = max(lastTime, event.time)
            overlay[decision.uuid] = (after, event.sequence)
            queue.append(Waiting(request: request, event: event, after: after))
            condition.signal()
        }
    }

    /// Asks the commit thread to read other writers' records now (a notification came).
    public func wake() {
        condition.lock()
        followRequested = true
        condition.signal()
        condition.unlock()
    }

    func commitLoop() {
        let interval = options.followIntervalSeconds
        var nextFollow = Date(timeIntervalSinceNow: interval)
        while true {
            condition.lock()
            while queue.isEmpty && !stopping && !followRequested && unconfirmed.isEmpty {
                if writer.isShared {
                    if Date() >= nextFollow { break }
                    _ = condition.wait(until: nextFollow)
                } else {
                    condition.wait()
                }
            }
            if !unconfirmed.isEmpty {
                // Refusals are answered on a state that has read the log's head.
                condition.unlock()
                follow()
                continue
            }
            if queue.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            if queue.isEmpty {
                followRequested = false
                condition.unlock()
                follow()
                nextFollow = Date(timeIntervalSinceNow: interval)
                continue
            }
            if writer.isShared && !unreachable {
                // The turn first: decisions taken while holding it cannot go stale.
                condition.unlock()
                let missed = writer.takeTurn()
                condition.lock()
                if !missed.isEmpty { absorb(missed, current: true) }
                if queue.isEmpty {
                    condition.unlock()
                    writer.endTurn()
                    continue
                }
            }
            let n = min(queue.count, options.batchEventsMax)
            let batch = Array(queue[0..<n])
            queue.removeFirst(n)
            condition.unlock()

            let outcome: AppendOutcome
            do { outcome = try writer.append(batch.map(\.event)) } catch {
                fail(batch, error)
                continue
            }
            if outcome == .stale {
                writer.metrics?.staleAppends.increment()
                // Another writer came first: its records decide what these requests do now.
                follow(deciding: batch)
                continue
            }
            condition.lock()
            durableHash = writer.hash
            durablePosition = writer.lastEvents
            for w in batch {
                do { try projection.apply(w.event) } catch {
                    // The decider and projector disagree: a bug that must not go on writing.
                    preconditionFailure("durable event does not apply: \(error)")
                }
                if overlay[w.event.uuid]?.sequence == w.event.sequence { overlay[w.event.uuid] = nil }
                if writer.isShared { lastWrittenElsewhere.remove(w.event.uuid) }
            }
            snapshotIfDue()
            condition.unlock()
            for w in batch { w.request.done(.success(w.after)) }
        }
    }

    /// Reads the records other writers appended and applies them; every request still waiting
    /// (`batch`, taken from the queue, then the queue) is decided again on the new state.
    /// Called on the commit thread without the lock.
    func follow(deciding batch: [Waiting] = []) {
        let foreign: [Event]
        do { foreign = try writer.catchUp() } catch {
            condition.lock()
            let first = followFailure == nil
            followFailure = "\(error)"
            unreachable = true
            // The head cannot be read: the refusals stand as this node decided them.
            let waiting = unconfirmed
            unconfirmed = []
            let view = OverlayView(store: self)
            for request in waiting {
                switch request.decide(view, max(request.now, lastTime)) {
                case .failure(let refusal): request.done(.failure(refusal))
                case .success: request.done(.failure(AWSError.service(Store.unreachableLog)))
                }
            }
            // Writes that came while this read waited would wait out the same outage again in
            // an append: they are refused with it, as new ones are until a read succeeds.
            let queued = !queue.isEmpty
            condition.unlock()
            if first { logger.error("cannot read the shared log; serving the state already read", metadata: ["wal.error": "\(error)"]) }
            if !batch.isEmpty || queued { fail(batch, error) }
            return
        }
        condition.lock()
        if followFailure != nil || unreachable {
            followFailure = nil
            unreachable = false
            logger.notice("shared log reachable again")
        }
        // Refused requests are decided again, now on the head; with nothing new they are
        // refused again, and answered.
        let confirming = unconfirmed.map { request -> Request in
            var r = request
            r.current = true
            return r
        }
        unconfirmed = []
        guard !foreign.isEmpty || !batch.isEmpty else {
            for request in confirming { enqueue(request) }
            condition.unlock()
            return
        }
        if foreign.isEmpty {
            // Stale, yet nothing came after this writer's head: deciding again would only loop.
            for request in confirming { enqueue(request) }
            condition.unlock()
            fail(batch, StorageError(.io, "the shared log moved on but no record after this node's head could be read"))
            return
        }
        absorb(foreign, first: batch.map(\.request), last: confirming)
        condition.unlock()
    }

    /// Applies other writers' events, then decides again `first`, everything queued, and
    /// `last`, in that order, on the state they made; `current` when that state is the log's
    /// head (read under the turn), so refusals are answered at once. Called with `condition`
    /// locked.
    func absorb(_ foreign: [Event], first: [Request] = [], last: [Request] = [], current: Bool = false) {
        for e in foreign {
            do { try projection.apply(e) } catch {
                // A record that checks but does not apply: the writers disagree on the rules.
                preconditionFailure("another writer's event does not apply: \(error)")
            }
            lastTime = max(lastTime, e.time)
            if projection.mappings[e.uuid] != nil { lastWrittenElsewhere.insert(e.uuid) } else { lastWrittenElsewhere.remove(e.uuid) }
        }
        durableHash = writer.hash
        durablePosition = writer.lastEvents
        var requests = first + queue.map(\.request) + last
        if current { for k in requests.indices { requests[k].current = true } }
        queue = []
        overlay = [:]
        nextSequence = projection.lastSequence + 1
        for request in requests { enqueue(request) }
        snapshotIfDue()
    }

    /// A failed write fails its batch and everything decided on top of it, and the state goes
    /// back to what is durable. When the writer can no longer vouch for the file (its fsync
    /// failed), every later write is refused as well, until a restart.
    func fail(_ batch: [Waiting], _ error: any Error) {
        let broken = writer.failure
        condition.lock()
        let rest = queue
        queue = []
        overlay = [:]
        nextSequence = projection.lastSequence + 1
        let first = broken != nil && writesRefused == nil
        if broken != nil { writesRefused = Store.refusal }
        if broken == nil && writer.isShared { unreachable = true }
        condition.unlock()
        if first {
            logger.error("log can no longer be written; writes are refused until esmlog is restarted", metadata: [
                "wal.error": "\(broken!)", "wal.events": "\(batch.count + rest.count)",
            ])
        } else if broken == nil {
            logger.error("append failed", metadata: ["wal.error": "\(error)", "wal.events": "\(batch.count + rest.count)"])
        }
        for w in batch + rest {
            w.request.done(.failure(AWSError.service(broken == nil ? "The event could not be written to the log." : Store.refusal)))
        }
    }

    /// What a write is answered while a shared log cannot be reached.
    static let unreachableLog = "The event log cannot be reached; writes are refused until it can be."

    /// What a write is answered once the log cannot be written.
    static let refusal = "The event log could not be made durable; writes are refused until the server is restarted."
}
