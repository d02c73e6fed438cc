import ArgumentParser
import Foundation

/// `serve`'s settings from a config file and from environment variables, turned into command
/// line options placed before the ones given, so that the command line wins over the
/// environment, and the environment over the file.
///
/// The file has one `name = value` per line, `#` comments, and the option names without
/// their dashes (`port = 9321`, `auth = sigv4`). The environment variable of an option is
/// `ESMLOG_` and its name in capitals with `_` for `-` (`ESMLOG_PORT`, `ESMLOG_CREDENTIALS_FILE`).
enum Settings {
    /// Every option of `serve` that the file and the environment may set.
    static let names = [
        "data-dir", "host", "port", "account", "transition-delay", "sync", "segment-size-bytes", "snapshot-every-events",
        "body-bytes-max", "in-flight-max", "connections-max", "idle-timeout", "request-timeout", "log-level", "auth",
        "credentials-file", "signing-key", "checkpoint-every", "storage",
    ]

    static func environmentName(_ name: String) -> String {
        "ESMLOG_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The command line with the settings of `--config FILE` (if given) and of the environment
    /// put in front of `serve`'s own options.
    static func expand(_ arguments: [String], environment: [String: String]) throws -> [String] {
        guard arguments.first == "serve" else { return arguments }
        var given = Array(arguments.dropFirst())
        var fromFile: [String] = []
        if let i = given.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) {
            let path: String
            if given[i] == "--config" {
                guard i + 1 < given.count else { throw ValidationError("--config needs a file") }
                path = given[i + 1]
                given.removeSubrange(i...(i + 1))
            } else {
                path = String(given[i].dropFirst("--config=".count))
                given.remove(at: i)
            }
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("cannot read --config \(path): \(error.localizedDescription)")
            }
            fromFile = try parse(text, file: path)
        }
        var fromEnvironment: [String] = []
        for name in names {
            if let value = environment[environmentName(name)] { fromEnvironment += ["--" + name, value] }
        }
        return ["serve"] + fromFile + fromEnvironment + given
    }

    static func parse(_ text: String, file: String) throws -> [String] {
        var out: [String] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { throw ValidationError("\(file) line \(index + 1): expected name = value") }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard names.contains(name) else { throw ValidationError("\(file) line \(index + 1): unknown setting '\(name)'") }
            out += ["--" + name, line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)]
        }
        return out
    }
}
