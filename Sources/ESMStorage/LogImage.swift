/// A log's segment files held in memory: how a log kept elsewhere (a database) is read by the
/// same scanner, with the same checks, as segment files on disk. Read-only.
public struct LogImage: FileSystem {
    /// The folder the segments appear in.
    public let directory: String
    let files: [String: [UInt8]]

    /// - Parameter segments: each segment's bytes (its header, then its records in order).
    public init(directory: String, segments: [(header: SegmentHeader, bytes: [UInt8])]) {
        self.directory = directory
        var files: [String: [UInt8]] = [:]
        for s in segments { files[LogFormat.segmentName(index: s.header.index, firstSequence: s.header.firstSequence)] = s.bytes }
        self.files = files
    }

    static func readOnly(_ path: String) -> StorageError { StorageError(.invalidArgument, "\(path): the log image is read-only") }

    public func list(_ directory: String) throws(StorageError) -> [String] {
        guard directory == self.directory else { return [] }
        return files.keys.sorted()
    }

    public func read(_ path: String) throws(StorageError) -> [UInt8] {
        guard let bytes = name(path).flatMap({ files[$0] }) else { throw StorageError(.io, "\(path): no such segment") }
        return bytes
    }

    public func exists(_ path: String) -> Bool { path == directory || name(path).map { files[$0] != nil } ?? false }

    func name(_ path: String) -> String? {
        path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : nil
    }

    public func create(_ path: String) throws(StorageError) -> any LogFile { throw LogImage.readOnly(path) }
    public func open(_ path: String) throws(StorageError) -> any LogFile { throw LogImage.readOnly(path) }
    public func rename(_ from: String, _ to: String) throws(StorageError) { throw LogImage.readOnly(from) }
    public func remove(_ path: String) throws(StorageError) { throw LogImage.readOnly(path) }
    public func makeDirectory(_ path: String) throws(StorageError) {}
    public func syncDirectory(_ path: String) throws(StorageError) {}
    public func lockExclusive(_ path: String) throws(StorageError) -> any FolderLock { throw LogImage.readOnly(path) }
    public func lockHolder(_ path: String) -> LockHolder? { nil }
}
