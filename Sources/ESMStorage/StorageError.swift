/// An error of the storage layer: bad bytes on disk or a failed system call.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// Bytes that fail their checksum, hash chain or framing somewhere other than a torn tail.
        public static let corruption = Code(name: "corruption")
        /// A system call failed (ENOSPC, EIO, ...).
        public static let io = Code(name: "io")
        /// The log was written by a newer format version than this reader knows.
        public static let unsupportedVersion = Code(name: "unsupportedVersion")
        /// A request the log cannot take (e.g. a record over the size limit).
        public static let invalidArgument = Code(name: "invalidArgument")
        /// Another process holds the data folder's lock: one writer per log.
        public static let locked = Code(name: "locked")
        public var description: String { name }
    }

    public var code: Code
    /// Says where: "wal/0000000003-00000000000000001024.seg offset 4096: checksum mismatch".
    public var message: String
    /// The errno of a failed system call.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { "\(code): \(message)" }
}
