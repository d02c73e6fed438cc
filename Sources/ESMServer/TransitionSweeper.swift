import ESMCore
import ESMStorage
import Logging

/// Completes the transitions the system owes: a mapping that has been Creating, Enabling,
/// Updating, Disabling or Deleting for `delay` moves on, with an event of its own.
///
/// It works from the projection alone, so transitions pending at a crash are completed after
/// restart, and a completion whose write failed is tried again on the next pass.
public actor TransitionSweeper {
    let store: Store
    let delayMilliseconds: Int64
    let logger: Logger
    /// How often the sweeper looks; short, so a zero delay is near immediate.
    static let intervalMilliseconds: Int64 = 20
    /// On a shared log, how much longer a transition started by another node's write waits
    /// before this node completes it: that node completes its own first (nodes racing for every
    /// transition would make every other append stale), and if it died the others take over.
    static let takeoverMilliseconds: Int64 = 1000

    public init(store: Store, delaySeconds: Double, logger: Logger) {
        self.store = store
        self.delayMilliseconds = Int64((delaySeconds * 1000).rounded())
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await sweep(now: WallClock.now())
            try? await Task.sleep(for: .milliseconds(TransitionSweeper.intervalMilliseconds))
        }
    }

    /// Completes every transition due at `now`.
    public func sweep(now: EventTime) async {
        // Once the log cannot be written, nothing can complete; the next start does it.
        guard store.refusingWrites == nil else { return }
        var due = store.read { p in p.transitional(dueAt: now, delayMilliseconds: delayMilliseconds) }
        guard !due.isEmpty else { return }
        let elsewhere = store.writtenElsewhere(due)
        if !elsewhere.isEmpty {
            let overdue = Set(store.read { p in
                p.transitional(dueAt: now, delayMilliseconds: delayMilliseconds + TransitionSweeper.takeoverMilliseconds)
            })
            due = due.filter { !elsewhere.contains($0) || overdue.contains($0) }
            guard !due.isEmpty else { return }
        }
        // One call for all of them: one lock, and their events share group commits.
        let failures = await store.performEach(due, now: WallClock.now()) { uuid, view, time in
            .success(Decider.completeTransition(uuid: uuid, time: time, state: view))
        }
        for (uuid, error) in failures {
            logger.warning("transition not completed", metadata: ["esm.uuid": "\(uuid)", "error": "\(error)"])
        }
    }
}
