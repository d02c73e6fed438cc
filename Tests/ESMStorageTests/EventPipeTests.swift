import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// The pipe blocks the threads that use it, so these tests put from threads of their own, never
/// from the cooperative pool's.
@Suite struct EventPipeTests {
    static func event(_ n: UInt64) -> StateEvent {
        StateEvent(Event(sequence: n, time: EventTime(milliseconds: Int64(n)), uuid: uuid(Int(n)), actor: nil,
                         change: .stateChanged(from: .creating, to: .enabled)))
    }

    /// What a thread found, read after it signals.
    final class Outcome: @unchecked Sendable {
        var value = 0
        let done = DispatchSemaphore(value: 0)
    }

    /// Chunks come out in the order they went in; a put waits while `capacity` chunks wait, and
    /// goes on when one is taken; after the end, the taker gets what is left and then nil.
    @Test func chunksComeInOrderAndAPutWaitsForRoom() {
        let pipe = EventPipe(capacity: 2)
        let accepted = Outcome(), third = Outcome()
        Thread {
            for n in 1...5 where pipe.put([EventPipeTests.event(UInt64(n))]) {
                accepted.value += 1
                if n == 2 { third.done.signal() }
            }
            pipe.end()
            accepted.done.signal()
        }.start()
        // Two chunks fit; the third put waits until one is taken.
        third.done.wait()
        #expect(accepted.done.wait(timeout: .now() + 0.2) == .timedOut)
        var taken: [UInt64] = []
        while let chunk = pipe.take() { taken += chunk.map(\.sequence) }
        accepted.done.wait()
        #expect(taken == [1, 2, 3, 4, 5])
        #expect(accepted.value == 5)
        #expect(pipe.take() == nil)
    }

    /// Once the taker stops, a put that waits for room returns false, and so does every later one.
    @Test func aStoppedTakerEndsTheScan() {
        let pipe = EventPipe(capacity: 1)
        #expect(pipe.put([EventPipeTests.event(1)]))
        let waiting = Outcome()
        Thread {
            waiting.value = pipe.put([EventPipeTests.event(2)]) ? 1 : 0
            waiting.done.signal()
        }.start()
        #expect(waiting.done.wait(timeout: .now() + 0.2) == .timedOut)
        pipe.stop()
        waiting.done.wait()
        #expect(waiting.value == 0)
        #expect(pipe.put([EventPipeTests.event(3)]) == false)
    }
}
