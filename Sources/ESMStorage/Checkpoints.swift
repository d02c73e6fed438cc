import Crypto
import ESMCore
import Foundation

/// A signed statement that the log held exactly events 1...`sequence` with the chain hash
/// `hash` after them, at `time`: what turns the hash chain's consistency into authenticity.
///
/// Anyone who can write the folder can cut the log and write a different history whose own chain
/// verifies; they cannot sign it with a key they do not have. `esmlog verify --public-key`
/// checks every checkpoint's signature and that the log still contains exactly the signed prefix.
public struct Checkpoint: Sendable, Equatable {
    public var sequence: UInt64
    /// The chain hash after the events record that ends at `sequence`.
    public var hash: ChainHash
    public var time: EventTime
    /// The signer's Ed25519 public key (32 bytes).
    public var publicKey: [UInt8]
    public var signature: [UInt8]

    /// What is signed: a fixed prefix, so a signature over other data can never pass for a
    /// checkpoint, and the three facts in canonical JSON.
    public static func signedBytes(sequence: UInt64, hash: ChainHash, time: EventTime) -> [UInt8] {
        let facts: JSON = ["HeadHash": .string(hash.hex), "Sequence": .number(Double(sequence)), "Time": .number(Double(time.milliseconds))]
        return Array("esmlog checkpoint v1\n".utf8) + facts.canonicalBytes
    }

    public static func sign(sequence: UInt64, hash: ChainHash, time: EventTime, key: Curve25519.Signing.PrivateKey) throws -> Checkpoint {
        let signature = try key.signature(for: signedBytes(sequence: sequence, hash: hash, time: time))
        return Checkpoint(sequence: sequence, hash: hash, time: time, publicKey: Array(key.publicKey.rawRepresentation),
                          signature: Array(signature))
    }

    /// Whether `key` made this signature over these facts.
    public func verifies(with key: Curve25519.Signing.PublicKey) -> Bool {
        Array(key.rawRepresentation) == publicKey
            && key.isValidSignature(signature, for: Checkpoint.signedBytes(sequence: sequence, hash: hash, time: time))
    }

    public var json: JSON {
        ["Sequence": .number(Double(sequence)), "HeadHash": .string(hash.hex), "Time": .string(time.description),
         "TimeMilliseconds": .number(Double(time.milliseconds)),
         "PublicKey": .string(Data(publicKey).base64EncodedString()), "Signature": .string(Data(signature).base64EncodedString())]
    }

    public init(sequence: UInt64, hash: ChainHash, time: EventTime, publicKey: [UInt8], signature: [UInt8]) {
        self.sequence = sequence
        self.hash = hash
        self.time = time
        self.publicKey = publicKey
        self.signature = signature
    }

    public init?(json: JSON) {
        guard let s = json["Sequence"]?.intValue, s > 0, let h = json["HeadHash"]?.stringValue, let hash = ChainHash(hex: h),
              let ms = json["TimeMilliseconds"]?.intValue,
              let k = json["PublicKey"]?.stringValue.flatMap({ Data(base64Encoded: $0) }), k.count == 32,
              let sig = json["Signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }), sig.count == 64
        else { return nil }
        self.init(sequence: UInt64(s), hash: hash, time: EventTime(milliseconds: Int64(ms)), publicKey: Array(k), signature: Array(sig))
    }
}

extension ChainHash {
    /// Reads 64 hexadecimal digits.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let b = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(b)
        }
        self.init(bytes: bytes)
    }
}

/// The checkpoints of a data folder: `DIR/checkpoints.jsonl`, one JSON object per line, appended
/// (never rewritten) by `esmlog checkpoint` and by `serve --signing-key`.
public enum CheckpointFile {
    public static func path(_ dataDirectory: String) -> String { dataDirectory + "/checkpoints.jsonl" }

    /// - Throws: `StorageError(.corruption)` naming the line that is not a checkpoint.
    public static func read(_ path: String) throws -> [Checkpoint] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let bytes = try POSIXFileSystem().read(path)
        var out: [Checkpoint] = []
        for (i, line) in bytes.split(separator: 10, omittingEmptySubsequences: true).enumerated() {
            guard let json = try? JSON.parse(Array(line)), let c = Checkpoint(json: json) else {
                throw StorageError(.corruption, "\(path) line \(i + 1) is not a checkpoint")
            }
            out.append(c)
        }
        return out
    }

    /// Appends one line with a single write and syncs it.
    public static func append(_ c: Checkpoint, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError(.io, "open \(path): \(String(cString: strerror(errno)))", errno: errno) }
        defer { close(fd) }
        let line = c.json.canonicalBytes + [10]
        let n = line.withUnsafeBytes { write(fd, $0.baseAddress!, line.count) }
        guard n == line.count, fsync(fd) == 0 else {
            throw StorageError(.io, "write \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
    }

    /// What the log says about each checkpoint: every problem, in order. `publicKey` nil checks
    /// only that the log still holds each signed prefix.
    public static func problems(_ checkpoints: [Checkpoint], in scan: LogScan, publicKey: Curve25519.Signing.PublicKey?) -> [String] {
        let hashAt = hashes(scan)
        return checkpoints.compactMap { problem($0, hashAt: hashAt, lastSequence: scan.lastSequence, publicKey: publicKey) }
    }

    /// The newest checkpoint at or before `sequence` that the log agrees with.
    public static func newest(_ checkpoints: [Checkpoint], in scan: LogScan, through sequence: UInt64) -> Checkpoint? {
        let hashAt = hashes(scan)
        return checkpoints.filter { $0.sequence <= sequence }.sorted { $0.sequence > $1.sequence }
            .first { problem($0, hashAt: hashAt, lastSequence: scan.lastSequence, publicKey: nil) == nil }
    }

    /// The chain hash after each events record, by the record's last sequence.
    static func hashes(_ scan: LogScan) -> [UInt64: ChainHash] {
        var hashAt: [UInt64: ChainHash] = [:]
        for s in scan.segments { for b in s.boundaries { hashAt[b.lastSequence] = b.hash } }
        return hashAt
    }

    static func problem(_ c: Checkpoint, hashAt: [UInt64: ChainHash], lastSequence: UInt64, publicKey: Curve25519.Signing.PublicKey?) -> String? {
        let name = "checkpoint of sequence \(c.sequence) signed \(c.time)"
        if let publicKey, !c.verifies(with: publicKey) {
            return Array(publicKey.rawRepresentation) == c.publicKey
                ? "\(name): the signature does not verify: the checkpoint was altered"
                : "\(name): signed by another key"
        }
        if c.sequence > lastSequence { return "\(name): the log ends at sequence \(lastSequence): signed events were removed" }
        guard let h = hashAt[c.sequence] else { return "\(name): no record of the log ends at that sequence: history was rewritten" }
        if h != c.hash { return "\(name): the log's chain hash after that sequence is \(h.hex), not the signed \(c.hash.hex): history was rewritten" }
        return nil
    }
}

/// Ed25519 key files written by `esmlog keygen`: a first line naming the kind, then the raw key
/// in base64.
public enum SigningKeys {
    static let privateHeader = "esmlog ed25519 private key"
    static let publicHeader = "esmlog ed25519 public key"

    public static func write(_ key: Curve25519.Signing.PrivateKey, privatePath: String, publicPath: String) throws {
        for path in [privatePath, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw StorageError(.invalidArgument, "\(path) exists: keys are never overwritten")
        }
        try Data("\(privateHeader)\n\(key.rawRepresentation.base64EncodedString())\n".utf8)
            .write(to: URL(fileURLWithPath: privatePath), options: [.withoutOverwriting])
        chmod(privatePath, 0o600)
        try Data("\(publicHeader)\n\(key.publicKey.rawRepresentation.base64EncodedString())\n".utf8)
            .write(to: URL(fileURLWithPath: publicPath), options: [.withoutOverwriting])
    }

    static func body(_ path: String, header: String) throws -> Data {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count == 2, lines[0] == header, let raw = Data(base64Encoded: lines[1]) else {
            throw StorageError(.invalidArgument, "\(path) is not an \(header) file (esmlog keygen writes them)")
        }
        return raw
    }

    public static func readPrivate(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        try Curve25519.Signing.PrivateKey(rawRepresentation: try body(path, header: privateHeader))
    }

    public static func readPublic(_ path: String) throws -> Curve25519.Signing.PublicKey {
        try Curve25519.Signing.PublicKey(rawRepresentation: try body(path, header: publicHeader))
    }
}
