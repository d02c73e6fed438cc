import Dispatch
import Foundation

/// Runs async database work from synchronous code (the store's commit thread, the CLI), waiting
/// at most `seconds`. On time-out the work goes on unobserved: a caller must treat the outcome
/// as unknown, never as failed.
final class Blocking<T: Sendable>: @unchecked Sendable {  // `result` is written once, before the signal
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    static func run(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = Blocking<T>()
        Task(executorPreference: DatabaseExecutor.shared) {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            box.done.signal()
        }
        guard box.done.wait(timeout: .now() + seconds) == .success else { throw TimedOut(seconds: seconds) }
        return try box.result!.get()
    }
}

/// The database did not answer in time; what it did is not known.
struct TimedOut: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "PostgreSQL did not answer within \(seconds) s" }
}

/// Where the database work runs: threads of its own, never the cooperative pool. A synchronous
/// caller waiting in `Blocking.run` may be holding a cooperative thread (an async command, a test
/// on a 2-core machine), and the work it waits for must not need that thread.
final class DatabaseExecutor: TaskExecutor {
    static let shared = DatabaseExecutor()
    let queue = DispatchQueue(label: "esmlog.postgres", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
