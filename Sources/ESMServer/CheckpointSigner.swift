import Crypto
import ESMCore
import ESMStorage
import Logging

/// Signs checkpoints of the store's durable head as the server runs (`serve --signing-key`):
/// every `everySeconds` when events came since the last one, and once more at shutdown.
public actor CheckpointSigner {
    let key: Curve25519.Signing.PrivateKey
    let path: String
    let everySeconds: Double
    private var signed: UInt64 = 0

    public init(key: Curve25519.Signing.PrivateKey, dataDirectory: String, everySeconds: Double) {
        self.key = key
        self.path = CheckpointFile.path(dataDirectory)
        self.everySeconds = everySeconds
    }

    /// Runs until the task is cancelled.
    func run(store: Store, logger: Logger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(everySeconds * 1000)))
            if Task.isCancelled { return }
            sign(store: store, logger: logger)
        }
    }

    /// Signs the head if it moved since the last checkpoint.
    func sign(store: Store, logger: Logger) {
        guard let head = store.durableHead, head.sequence > signed else { return }
        do {
            let c = try Checkpoint.sign(sequence: head.sequence, hash: head.hash, time: WallClock.now(), key: key)
            try CheckpointFile.append(c, to: path)
            signed = head.sequence
            logger.info("checkpoint signed", metadata: ["wal.sequence": "\(c.sequence)", "wal.head_hash": "\(c.hash.hex)"])
        } catch {
            logger.warning("checkpoint failed", metadata: ["error": "\(error)"])
        }
    }
}
