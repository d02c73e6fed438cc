import ArgumentParser
import Crypto
import ESMCore
import ESMStorage
import Foundation

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an Ed25519 key pair for signed checkpoints (never overwrites a file).")

    @Option(help: "Where to write the private key (mode 0600). Keep it away from the data folder.")
    var `private`: String
    @Option(help: "Where to write the public key, which verify --public-key reads.")
    var `public`: String

    func run() throws {
        try SigningKeys.write(Curve25519.Signing.PrivateKey(), privatePath: `private`, publicPath: `public`)
        print("private key: \(`private`)")
        print("public key: \(`public`)")
    }
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the log's head (sequence, chain hash, time) into DIR/checkpoints.jsonl; the log must verify.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Option(help: "The private key from esmlog keygen.")
    var signingKey: String

    func run() throws {
        let key = try SigningKeys.readPrivate(signingKey)
        let scan = try folder.withLocation { try $0.scan() }
        if let problem = scan.problems.first { throw ValidationError("the log has problems; run esmlog verify: \(problem)") }
        guard let head = scan.lastEvents else { throw ValidationError("the log has no events to sign") }
        let c = try Checkpoint.sign(sequence: head.lastSequence, hash: head.hash, time: WallClock.now(), key: key)
        try CheckpointFile.append(c, to: CheckpointFile.path(dataDir))
        print("checkpoint: sequence \(c.sequence), head hash \(c.hash.hex), time \(c.time)")
        print(JSON.object(c.json.objectValue!).canonicalString)
    }
}

/// The checkpoint lines of `verify`: every checkpoint of the folder (and of `--checkpoint`
/// files) against the log, signatures checked when a public key is given.
func checkpointReport(dataDir: String, scan: LogScan, publicKey path: String?, extra: [String]) throws -> (lines: [String], problems: [String]) {
    let key = try path.map(SigningKeys.readPublic)
    var checkpoints = try CheckpointFile.read(CheckpointFile.path(dataDir))
    for file in extra { checkpoints += try CheckpointFile.read(file) }
    var lines: [String] = []
    var problems = CheckpointFile.problems(checkpoints, in: scan, publicKey: key)
    if key != nil, checkpoints.isEmpty { problems.append("no checkpoints to check: nothing of this log is signed") }
    if let newest = checkpoints.max(by: { $0.sequence < $1.sequence }), problems.isEmpty {
        lines.append("checkpoints: \(checkpoints.count) \(key == nil ? "match the log (signatures not checked: give --public-key)" : "verify"), newest sequence \(newest.sequence) signed \(newest.time)")
    }
    return (lines, problems)
}
