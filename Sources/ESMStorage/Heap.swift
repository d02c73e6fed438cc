#if canImport(Glibc)
import Glibc
#endif

/// The C heap.
public enum Heap {
    /// Caps glibc's malloc arenas. By default glibc gives threads up to eight arenas per core,
    /// and each fragments on its own; the server's threads (event loops, the commit thread,
    /// snapshot workers) then hold a quarter more memory per mapping than with one arena per
    /// core. Call before threads start. glibc only.
    public static func limitArenas(to count: Int) {
        mallopt(-8, Int32(max(1, count)))  // M_ARENA_MAX in glibc's malloc.h
    }

    /// Serves every allocation of `bytes` or more with its own mapping, given back when freed.
    /// glibc otherwise raises that bound to the largest block freed so far (up to 32 MiB): after
    /// the first background snapshot frees its buffers of several MiB, the next ones are cut
    /// from the heap, and what is left around them when they are freed stays resident. At
    /// 100,000 mappings that was a fifth of the server's memory after a run of creates and
    /// updates (docs/performance.md). Call before threads start. glibc only.
    public static func mapAllocations(atLeast bytes: Int) {
        mallopt(-3, Int32(clamping: bytes))  // M_MMAP_THRESHOLD in glibc's malloc.h
    }

    /// glibc's `mallopt`, looked up at run time; elsewhere nothing.
    private static func mallopt(_ parameter: Int32, _ value: Int32) {
        #if canImport(Glibc)
        if let f = dlsym(dlopen(nil, RTLD_NOW), "mallopt") {
            _ = unsafeBitCast(f, to: (@convention(c) (Int32, Int32) -> Int32).self)(parameter, value)
        }
        #endif
    }

    /// Gives memory freed by a burst of temporary allocations (such as parsing a snapshot at
    /// start-up) back to the system, so the resident size is what the state needs. glibc only;
    /// elsewhere it does nothing.
    static func trim() {
        #if canImport(Glibc)
        if let f = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") {
            _ = unsafeBitCast(f, to: (@convention(c) (Int) -> Int32).self)(0)
        }
        #endif
    }
}
