#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive hold of one process on a data folder: while it is held, no other esmlog
/// process writes there. Released by `release()` or when the process ends, however it ends.
public protocol FolderLock: AnyObject {
    func release()
}

/// Who holds a data folder's lock.
public struct LockHolder: Sendable, Equatable, CustomStringConvertible {
    /// The pid the holder wrote into the lock file, when it could be read.
    public var pid: Int32?
    public var description: String { pid.map { "pid \($0)" } ?? "pid unknown" }
}

/// The one-writer rule of a data folder.
///
/// Every command that writes (serve, repair, snapshot, import) takes `DIR/LOCK` exclusively
/// before it reads anything, and holds it until it has written its last byte. Read-only
/// commands take nothing; they ask `holder` whether a writer is live, so that they can tell the
/// record it is writing now from a torn tail.
public enum DataFolder {
    public static let lockName = "LOCK"

    public static func lockPath(_ dataDirectory: String) -> String { dataDirectory + "/" + lockName }

    /// Takes the folder's lock, creating the folder if needed.
    /// - Throws: `StorageError(.locked)` at once, naming the folder and the holder, when another
    ///   process (or another open store of this one) holds it.
    public static func lock(_ dataDirectory: String, fileSystem: any FileSystem = POSIXFileSystem()) throws(StorageError) -> any FolderLock {
        try fileSystem.makeDirectory(dataDirectory)
        return try fileSystem.lockExclusive(lockPath(dataDirectory))
    }

    /// The live writer of the folder, or nil when none holds it.
    public static func holder(_ dataDirectory: String, fileSystem: any FileSystem = POSIXFileSystem()) -> LockHolder? {
        fileSystem.lockHolder(lockPath(dataDirectory))
    }
}

/// Linux open-file-description locks (`F_OFD_SETLK`): held per open file, so two stores opened
/// in one process exclude each other as two processes do, and testable without being taken
/// (`F_OFD_GETLK`), so a reader's look never gets in a starting writer's way.
enum OFDLock {
    static let getLock: Int32 = 36  // F_OFD_GETLK
    static let setLock: Int32 = 37  // F_OFD_SETLK

    static func whole(_ type: Int32) -> Glibc.flock {
        var fl = Glibc.flock()
        fl.l_type = Int16(type)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = 0
        fl.l_len = 0
        fl.l_pid = 0
        return fl
    }

    static func pid(in path: String) -> Int32? {
        guard let bytes = try? POSIXFileSystem().read(path),
            let text = String(validating: bytes, as: UTF8.self)?.split(separator: "\n").first
        else { return nil }
        return Int32(text.filter { $0 != " " })
    }
}

final class POSIXFolderLock: FolderLock {
    private var fd: Int32

    init(fd: Int32) { self.fd = fd }
    deinit { release() }

    func release() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }
}

extension POSIXFileSystem {
    public func lockExclusive(_ path: String) throws(StorageError) -> any FolderLock {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXFileSystem.fail("open", path) }
        var fl = OFDLock.whole(Int32(F_WRLCK))
        guard fcntl(fd, OFDLock.setLock, &fl) == 0 else {
            let e = errno
            _ = Glibc.close(fd)
            guard e == EAGAIN || e == EACCES else { throw StorageError(.io, "lock \(path): \(String(cString: strerror(e)))", errno: e) }
            let holder = LockHolder(pid: OFDLock.pid(in: path))
            let folder = path.hasSuffix("/" + DataFolder.lockName) ? String(path.dropLast(DataFolder.lockName.count + 1)) : path
            throw StorageError(.locked, "the data folder \(folder) is in use by another esmlog process (\(holder)); only one process may write a log at a time", errno: e)
        }
        // Say who holds it, for the message a second writer gets.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress!, pid.count, 0) }
        return POSIXFolderLock(fd: fd)
    }

    public func lockHolder(_ path: String) -> LockHolder? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        // A read lock conflicts with the writer's lock only: F_OFD_GETLK reports that holder.
        var fl = OFDLock.whole(Int32(F_RDLCK))
        guard fcntl(fd, OFDLock.getLock, &fl) == 0, fl.l_type != Int16(F_UNLCK) else { return nil }
        return LockHolder(pid: OFDLock.pid(in: path))
    }
}
