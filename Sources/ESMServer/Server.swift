import ESMStorage
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
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
/// A second signal during that ends the process at once (exit status 128 + signal): every
/// acknowledged event is already on disk, and a half-written record is a torn tail that the
/// next start cuts.
public enum Server {
    /// - Parameters:
    ///   - alongside: work that runs as long as the server does (following a shared log).
    ///   - onListening: told the bound port once the server accepts connections (the port may
    ///     have been 0, "any free port").
    public static func run(store: Store, host: String, port: Int, configuration: APIConfiguration,
                           limits: NetworkLimits = NetworkLimits(), transitionDelaySeconds: Double,
                           checkpoints: CheckpointSigner? = nil, alongside: [@Sendable () async -> Void] = [], logger: Logger,
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
        let impatience = SecondSignal(logger: logger)
        defer { impatience.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await sweeper.run() }
            if let checkpoints { group.addTask { await checkpoints.run(store: store, logger: logger) } }
            for task in alongside { group.addTask { await task() } }
            defer { group.cancelAll() }
            try await app.runService()
        }
        store.close(snapshot: true)
        // The last head, signed after the final writes (the folder lock is already released, but
        // the checkpoint file is appended to, never rewritten).
        await checkpoints?.sign(store: store, logger: logger)
        logger.info("stopped")
    }
}

/// Counts SIGTERM and SIGINT beside the graceful shutdown that the service group runs on the
/// first one; the second exits the process without waiting.
final class SecondSignal: @unchecked Sendable {  // sources are set once, in init
    let sources: [any DispatchSourceSignal]

    init(logger: Logger) {
        let seen = NIOLockedValueBox(0)
        let queue = DispatchQueue(label: "esmlog.signals")
        sources = [SIGTERM, SIGINT].map { signo in
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler {
                let count = seen.withLockedValue { n in
                    n += 1
                    return n
                }
                guard count >= 2 else { return }
                logger.warning("second signal: exiting without finishing", metadata: ["signal": "\(signo)"])
                _exit(128 + signo)
            }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
