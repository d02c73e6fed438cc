#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file the log writes to. The log never writes through any other path, so tests can
/// put a faulty implementation here.
public protocol LogFile: AnyObject {
    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError)
    /// Makes every written byte durable (fdatasync).
    func sync() throws(StorageError)
    /// Cuts the file to `size` bytes.
    func truncate(to size: Int) throws(StorageError)
    func close()
}

/// The directory operations the log needs.
public protocol FileSystem: Sendable {
    func list(_ directory: String) throws(StorageError) -> [String]
    func read(_ path: String) throws(StorageError) -> [UInt8]
    /// Up to `count` bytes of a file from `offset` (fewer where the file ends).
    func read(_ path: String, offset: Int, count: Int) throws(StorageError) -> [UInt8]
    /// The whole file, except that the bytes in `skipped` may be left unread: their values are
    /// unspecified, and the caller must not look at them.
    func read(_ path: String, skipping skipped: Range<Int>) throws(StorageError) -> [UInt8]
    func exists(_ path: String) -> Bool
    /// Creates a new file; fails if it exists.
    func create(_ path: String) throws(StorageError) -> any LogFile
    /// Opens an existing file for writing.
    func open(_ path: String) throws(StorageError) -> any LogFile
    func rename(_ from: String, _ to: String) throws(StorageError)
    func remove(_ path: String) throws(StorageError)
    func makeDirectory(_ path: String) throws(StorageError)
    /// Makes a directory's entries durable (after create or rename).
    func syncDirectory(_ path: String) throws(StorageError)
    /// Takes `path` (created if missing) as an exclusive, non-blocking lock that ends when it
    /// is released or the process ends; fails with `.locked` naming the holder.
    func lockExclusive(_ path: String) throws(StorageError) -> any FolderLock
    /// The holder of `path`'s lock, or nil when nobody holds it. Takes nothing.
    func lockHolder(_ path: String) -> LockHolder?
}

/// The real file system.
public struct POSIXFileSystem: FileSystem {
    public init() {}

    static func fail(_ what: String, _ path: String) -> StorageError {
        let e = errno
        return StorageError(.io, "\(what) \(path): \(String(cString: strerror(e)))", errno: e)
    }

    public func list(_ directory: String) throws(StorageError) -> [String] {
        guard let d = opendir(directory) else { throw POSIXFileSystem.fail("opendir", directory) }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func read(_ path: String) throws(StorageError) -> [UInt8] {
        try read(path, skipping: 0..<0)
    }

    public func read(_ path: String, offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        try POSIXFileSystem.reading(path) { fd, fileSize throws(StorageError) in
            let size = max(0, min(count, fileSize - offset))
            var failed = false
            // Read straight into the array's storage: zero-filling it first costs as much as the copy.
            let out = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                let n = POSIXFileSystem.pread(fd, buffer.baseAddress!, size, at: offset)
                failed = n == nil
                initialized = n ?? 0
            }
            if failed { throw POSIXFileSystem.fail("read", path) }
            return out
        }
    }

    public func read(_ path: String, skipping skipped: Range<Int>) throws(StorageError) -> [UInt8] {
        let out = try POSIXFileSystem.reading(path) { fd, size throws(StorageError) -> [UInt8]? in
            var failed = false, short = false
            // Not zero-filled first, and the skipped pages are never touched, so they cost nothing.
            let out = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                for part in [0..<min(skipped.lowerBound, size), min(skipped.upperBound, size)..<size] where !part.isEmpty {
                    guard let n = POSIXFileSystem.pread(fd, buffer.baseAddress! + part.lowerBound, part.count, at: part.lowerBound) else {
                        failed = true
                        break
                    }
                    if n < part.count { short = true; break }
                }
                initialized = failed || short ? 0 : size
            }
            if failed { throw POSIXFileSystem.fail("read", path) }
            return short ? nil : out
        }
        if let out { return out }
        // The file shrank between its size and its reading: read what it holds now.
        return try read(path, offset: 0, count: Int.max)
    }

    /// Runs `body` on the file open for reading, with its size.
    private static func reading<T>(_ path: String, _ body: (Int32, Int) throws(StorageError) -> T) throws(StorageError) -> T {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXFileSystem.fail("open", path) }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw POSIXFileSystem.fail("fstat", path) }
        return try body(fd, Int(st.st_size))
    }

    /// Reads up to `count` bytes at `offset` into `buffer`, going on after short reads; the bytes
    /// read (fewer only at the end of the file), or nil on an error.
    private static func pread(_ fd: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ count: Int, at offset: Int) -> Int? {
        var done = 0
        while done < count {
            let n = Glibc.pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0, errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func create(_ path: String) throws(StorageError) -> any LogFile {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXFileSystem.fail("create", path) }
        return POSIXFile(fd: fd, path: path)
    }

    public func open(_ path: String) throws(StorageError) -> any LogFile {
        let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXFileSystem.fail("open", path) }
        return POSIXFile(fd: fd, path: path)
    }

    public func rename(_ from: String, _ to: String) throws(StorageError) {
        guard Glibc.rename(from, to) == 0 else { throw POSIXFileSystem.fail("rename", from) }
    }

    public func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 else { throw POSIXFileSystem.fail("unlink", path) }
    }

    public func makeDirectory(_ path: String) throws(StorageError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part + "/"
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw POSIXFileSystem.fail("mkdir", prefix) }
        }
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXFileSystem.fail("open", path) }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw POSIXFileSystem.fail("fsync", path) }
    }
}

final class POSIXFile: LogFile {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close() }

    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw POSIXFileSystem.fail("write", path) }
            done += n
        }
    }

    func sync() throws(StorageError) {
        guard fdatasync(fd) == 0 else { throw POSIXFileSystem.fail("fdatasync", path) }
    }

    func truncate(to size: Int) throws(StorageError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw POSIXFileSystem.fail("ftruncate", path) }
    }

    private var closed = false
    func close() {
        if !closed {
            closed = true
            _ = Glibc.close(fd)
        }
    }
}

extension FileSystem {
    /// `read(path)`: what a file system without ranged reads does.
    public func read(_ path: String, skipping skipped: Range<Int>) throws(StorageError) -> [UInt8] { try read(path) }

    /// `read(path)` cut to the range: what a file system without ranged reads does.
    public func read(_ path: String, offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        let all = try read(path)
        guard offset < all.count else { return [] }
        return Array(all[offset..<min(all.count, offset + count)])
    }

    /// Creates `path` holding `bytes` so that a crash leaves either no file or the whole one:
    /// the bytes go to `<path>.tmp`, which is synced, renamed into place, and the folder synced.
    public func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws(StorageError) {
        let tmp = path + ".tmp"
        if exists(tmp) { try remove(tmp) }
        let f = try create(tmp)
        do {
            try f.write(bytes, at: 0)
            try f.sync()
            f.close()
            try rename(tmp, path)
            try syncDirectory(directory)
        } catch {
            f.close()
            try? remove(tmp)
            throw error
        }
    }

    /// Cuts `path` at `offset`, first keeping the bytes it cuts in `aside` (synced) unless that
    /// file exists already; nothing is ever just thrown away.
    /// - Returns: the number of bytes cut.
    @discardableResult
    func cutTail(_ path: String, at offset: Int, keepingIn aside: String) throws(StorageError) -> Int {
        let bytes = try read(path)
        guard offset < bytes.count else { return 0 }
        if !exists(aside) {
            let copy = try create(aside)
            try copy.write(Array(bytes[offset...]), at: 0)
            try copy.sync()
            copy.close()
        }
        let f = try open(path)
        try f.truncate(to: offset)
        try f.sync()
        f.close()
        return bytes.count - offset
    }
}

/// A file's bytes in memory, read-only: mapped from the file, or a copy. Only for files that are
/// replaced by rename, never changed in place (a mapped file cut short under its reader would
/// fault).
public final class FileBytes: @unchecked Sendable {  // immutable after init
    public let bytes: UnsafeRawBufferPointer
    private let mapped: Bool

    /// Maps the file at `path`; nil when it cannot be opened or mapped, or is empty.
    public init?(mapping path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 0 else { return nil }
        guard let p = mmap(nil, Int(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        bytes = UnsafeRawBufferPointer(start: p, count: Int(st.st_size))
        mapped = true
    }

    public init(copying array: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: array.count, alignment: 8)
        array.withUnsafeBytes { copy.copyMemory(from: $0) }
        bytes = UnsafeRawBufferPointer(copy)
        mapped = false
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
        } else {
            bytes.deallocate()
        }
    }
}
