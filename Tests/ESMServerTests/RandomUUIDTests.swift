import Foundation
import Testing
@testable import ESMServer

@Suite struct RandomUUIDTests {
    @Test func isAVersion4UUIDInLowerCase() {
        for _ in 0..<2000 {
            let text = RandomUUID.string()
            let bytes = Array(text.utf8)
            #expect(bytes.count == 36)
            for (i, b) in bytes.enumerated() {
                if [8, 13, 18, 23].contains(i) {
                    #expect(b == UInt8(ascii: "-"), "\(text)")
                } else {
                    #expect((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66), "\(text)")
                }
            }
            #expect(bytes[14] == UInt8(ascii: "4"), "version: \(text)")
            #expect("89ab".utf8.contains(bytes[19]), "variant: \(text)")
            // Foundation reads it as the same UUID.
            #expect(UUID(uuidString: text)?.uuidString.lowercased() == text)
        }
    }

    @Test func laysOutTheBitsInOrder() {
        // The version and variant bits replace what was there; every other bit is kept, in order.
        let zero = RandomUUID.format((0, 0))
        #expect(zero == "00000000-0000-4000-8000-000000000000")
        let ones = RandomUUID.format((UInt64.max, UInt64.max))
        #expect(ones == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        let counting = RandomUUID.format((UInt64(littleEndian: 0x0706_0504_0302_0100), UInt64(littleEndian: 0x0F0E_0D0C_0B0A_0908)))
        #expect(counting == "00010203-0405-4607-8809-0a0b0c0d0e0f")
    }

    @Test func doesNotRepeat() {
        let many = (0..<20000).map { _ in RandomUUID.string() }
        #expect(Set(many).count == many.count)
    }
}
