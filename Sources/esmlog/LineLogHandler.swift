import ESMCore
import Foundation
import Logging

/// One logfmt line per message on stderr:
///
///     time=2026-11-29T09:40:00.123Z level=info msg=request esm.operation=GetEventSourceMapping http.status=200 ...
///
/// Metadata is formatted only when a line is written: the server attaches metadata to every
/// request's logger, and most of it is never logged.
struct LineLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(logLevel: Logger.Level) {
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra { all.merge(extra) { _, new in new } }
        let now = EventTime(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        var text = "time=\(now) level=\(level.rawValue) msg=\(LineLogHandler.quote(message.description))"
        for key in all.keys.sorted() {
            text += " \(key)=\(LineLogHandler.quote(all[key]!.description))"
        }
        text += "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Values with spaces, quotes, `=` or nothing at all are quoted, as logfmt readers expect.
    static func quote(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.isNewline }) else {
            return value
        }
        var out = "\""
        for c in value {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
