import ESMStorage
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Runs the API over a store until SIGTERM or SIGINT: then it stops accepting connections,
/// finishes the requests under way, writes what is waiting, takes a snapshot and returns.
public enum Server {
    /// - Parameters:
    ///   - onListening: told the bound port once the server accepts connections (the port may
    ///     have been 0, "any free port").
    public static func run(store: Store, host: String, port: Int, configuration: APIConfiguration,
                           transitionDelaySeconds: Double, logger: Logger,
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let sweeper = TransitionSweeper(store: store, delaySeconds: transitionDelaySeconds, logger: logger)
        let app = Application(
            responder: APIResponder(store: store, configuration: configuration),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await sweeper.run() }
            defer { group.cancelAll() }
            try await app.runService()
        }
        store.close(snapshot: true)
        logger.info("stopped")
    }
}
