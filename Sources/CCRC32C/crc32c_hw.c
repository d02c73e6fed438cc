// CRC-32C with the CPU's instruction, for the checksums of records, snapshots and indexes.
// The table-driven code in CRC32C.swift is the reference and the fallback; the tests compare both.
#include "crc32c_hw.h"
#include <string.h>

#if defined(__x86_64__)

int esm_crc32c_hw_available(void) {
    return __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2")))
uint32_t esm_crc32c_hw(uint32_t crc, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n > 0) {
        c32 = __builtin_ia32_crc32qi(c32, *p);
        p += 1;
        n -= 1;
    }
    return c32;
}

#else

int esm_crc32c_hw_available(void) { return 0; }

uint32_t esm_crc32c_hw(uint32_t crc, const void *bytes, size_t n) {
    (void)bytes;
    (void)n;
    return crc;
}

#endif
