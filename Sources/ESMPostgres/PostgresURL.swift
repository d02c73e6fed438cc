import Foundation

/// Where the shared log is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (also `postgresql://`).
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// Whether `text` names a PostgreSQL log (rather than the segment-file default).
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// - Throws: a message saying which part is missing or wrong.
    public init(_ text: String) throws {
        guard PostgresURL.isPostgres(text), let components = URLComponents(string: text) else {
            throw PostgresURLError("--storage must be postgres://USER[:PASSWORD]@HOST:PORT/DB, got \(PostgresURL.redacted(text))")
        }
        guard let user = components.user, !user.isEmpty else { throw PostgresURLError("the storage URL names no user") }
        guard let host = components.host, !host.isEmpty else { throw PostgresURLError("the storage URL names no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw PostgresURLError("the storage URL names no database (…/DB)") }
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.host = host
        self.port = components.port ?? 5432
        self.database = database
    }

    /// The URL without its password: what messages and logs show.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
