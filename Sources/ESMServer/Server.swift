import ESMStorage
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Limits of the HTTP server itself.
public struct NetworkLimits: Sendable {
    /// A connection that sends nothing for this long is closed (also in the middle of a request).
    public var idleTimeoutSeconds: Double = 60
    /// Connections served at once; further ones wait in the listen backlog.
    public var connectionsMax: Int = 1024
    /// One header line, all header lines, and the number of header lines of a request. Requests
    /// over them get 400 and the connection is closed.
    public var headerFieldBytesMax = 16 * 1024
    public var headerBytesMax = 64 * 1024
    public var headerFieldsMax = 100

    public init() {}
}

/// Runs the API over a store until SIGTERM or SIGINT: then it stops accepting connections,
/// finishes the requests under way, writes what is waiting, takes a snapshot and returns.
public enum Server {
    /// - Parameters:
    ///   - onListening: told the bound port once the server accepts connections (the port may
    ///     have been 0, "any free port").
    public static func run(store: Store, host: String, port: Int, configuration: APIConfiguration,
                           limits: NetworkLimits = NetworkLimits(), transitionDelaySeconds: Double, logger: Logger,
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let sweeper = TransitionSweeper(store: store, delaySeconds: transitionDelaySeconds, logger: logger)
        let app = Application(
            responder: APIResponder(store: store, configuration: configuration),
            server: .http1(configuration: .init(
                idleTimeout: .milliseconds(Int64(limits.idleTimeoutSeconds * 1000)),
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: limits.headerFieldBytesMax, maxHeaderListSize: limits.headerBytesMax,
                    maxHeaderFieldCount: limits.headerFieldsMax))),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(limits.connectionsMax, logger: logger)),
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
