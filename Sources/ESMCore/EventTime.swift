/// A point in time as whole milliseconds since the Unix epoch.
///
/// Events carry their time; the core never reads a clock. Milliseconds are what AWS shows in
/// LastModified (`1569284520.333`), and an integer keeps replay exact.
public struct EventTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (a: EventTime, b: EventTime) -> Bool { a.milliseconds < b.milliseconds }

    /// Epoch seconds with the milliseconds as a fraction: the wire form of LastModified.
    public var epochSeconds: Double { Double(milliseconds) / 1000 }

    /// Writes `JSON.number(epochSeconds)` as canonical JSON does (`1795935404.365`,
    /// `1795935404.5`, `1795935404`) straight from the integer milliseconds; times outside
    /// 1970...2286 go through the general number formatting.
    func writeEpochSeconds(to out: inout [UInt8]) {
        guard milliseconds >= 0 && milliseconds < 10_000_000_000_000 else {
            JSON.number(epochSeconds).write(to: &out)
            return
        }
        // At most ten digits of seconds, written from the last into a buffer on the stack.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { digits in
            var seconds = milliseconds / 1000
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(seconds % 10)
                seconds /= 10
            } while seconds != 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
        var fraction = milliseconds % 1000
        guard fraction != 0 else { return }
        out.append(UInt8(ascii: "."))
        var divisor: Int64 = 100
        while fraction != 0 {
            out.append(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    /// The next millisecond: a later transition of the same mapping never shares its time.
    public var successor: EventTime { EventTime(milliseconds: milliseconds + 1) }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-29T06:41:35.123Z`.
    public var description: String {
        let ms = milliseconds
        let days = Int64((Double(ms) / 86_400_000).rounded(.down))
        let msOfDay = ms - days * 86_400_000
        let (y, m, d) = EventTime.civil(fromDays: days)
        let h = msOfDay / 3_600_000, mi = (msOfDay / 60_000) % 60, s = (msOfDay / 1000) % 60, f = msOfDay % 1000
        func pad(_ v: Int64, _ n: Int) -> String {
            let t = String(v)
            return String(repeating: "0", count: max(0, n - t.count)) + t
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
    }

    /// Parses RFC 3339 (`2026-11-29T06:41:35Z`, fractions and `+hh:mm` offsets allowed).
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= b.count else { return nil }
            var v: Int64 = 0
            for c in b[from..<(from + len)] {
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 32,
            let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58, let s = num(17, 2),
            (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 3 { fraction = fraction * 10 + Int64(b[i] - 48) }
                digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 3)..<3 { fraction *= 10 }
        }
        var offsetMinutes: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) {
            offsetMinutes = (oh * 60 + om) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = EventTime.days(fromCivil: y, mo, d)
        let seconds = days * 86400 + h * 3600 + mi * 60 + s - offsetMinutes * 60
        milliseconds = seconds * 1000 + fraction
    }

    // Howard Hinnant's civil-from-days and days-from-civil algorithms (proleptic Gregorian).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
