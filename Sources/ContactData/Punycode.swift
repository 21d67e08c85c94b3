/// Punycode (RFC 3492): the ASCII form of Unicode domain labels used by IDNA (`münchen` <->
/// `mnchen-3ya`; the `xn--` prefix is added by the caller).
///
/// Parameters of RFC 3492 §5: base 36, tmin 1, tmax 26, skew 38, damp 700, initial bias 72,
/// initial n 128. Complexity O(n²) in the label length (labels are at most 63 octets).
public enum Punycode {
    static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    /// The Punycode of `input` (RFC 3492 §6.3), or `nil` on overflow.
    public static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = scalars.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basic = output.count
        var handled = basic
        if basic > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (step, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - step else { return nil }
            delta += step
            n = m
            for c in scalars {
                if c < n {
                    delta += 1
                    guard delta <= Int(Int32.max) else { return nil }
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, first: handled == basic)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    /// The Unicode text of Punycode `input` (RFC 3492 §6.2), or `nil` when it is not valid Punycode.
    public static func decode(_ input: String) -> String? {
        let chars = Array(input.unicodeScalars)
        guard chars.allSatisfy({ $0.isASCII }) else { return nil }
        var output: [Int] = []
        var start = 0
        if let dash = chars.lastIndex(of: "-") {
            output = chars[..<dash].map { Int($0.value) }
            start = dash + 1
        }
        var n = initialN, i = 0, bias = initialBias
        var index = start
        while index < chars.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard index < chars.count, let d = value(chars[index]) else { return nil }
                index += 1
                let (dw, o1) = d.multipliedReportingOverflow(by: w)
                guard !o1, i <= Int(Int32.max) - dw else { return nil }
                i += dw
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if d < t { break }
                let (nw, o2) = w.multipliedReportingOverflow(by: base - t)
                guard !o2, nw <= Int(Int32.max) else { return nil }
                w = nw
                k += base
            }
            bias = adapt(i - oldI, output.count + 1, first: oldI == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n <= 0x10FFFF, !(0xD800...0xDFFF).contains(n) else { return nil }
            output.insert(n, at: i)
            i += 1
        }
        var text = String.UnicodeScalarView()
        for v in output {
            guard let s = Unicode.Scalar(v) else { return nil }
            text.append(s)
        }
        return String(text)
    }

    static func adapt(_ delta: Int, _ points: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? 97 + d : 22 + d)))  // a-z, then 0-9
    }

    static func value(_ c: Unicode.Scalar) -> Int? {
        switch c.value {
        case 48...57: Int(c.value) - 22  // 0-9 -> 26-35
        case 65...90: Int(c.value) - 65
        case 97...122: Int(c.value) - 97
        default: nil
        }
    }
}
