#if canImport(Glibc)
import Glibc
#endif

/// The C heap.
enum Heap {
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
