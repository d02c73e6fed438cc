#ifndef ESMLOG_CRC32C_HW_H
#define ESMLOG_CRC32C_HW_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has a CRC-32C instruction that esm_crc32c_hw uses (x86-64 SSE4.2).
int esm_crc32c_hw_available(void);

/// Continues the raw CRC-32C register `crc` (not inverted) over `n` bytes, with the CPU's
/// instruction. Call only when esm_crc32c_hw_available() says so.
uint32_t esm_crc32c_hw(uint32_t crc, const void *bytes, size_t n);

#endif
