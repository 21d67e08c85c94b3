/// How an SMS text is encoded and how many segments (billable parts) it takes.
///
/// GSM 03.38 (3GPP TS 23.038): when every character is in the GSM 7-bit default alphabet or its
/// extension table, the text goes as GSM-7: a character of the basic table takes one septet, one of
/// the extension table (`^ { } \ [ ~ ] | €` and form feed) two (escape + character). One segment
/// holds 160 septets; a longer text is split into segments of 153 septets (7 go to the
/// concatenation header), and an escape pair is never split across two segments. Otherwise the
/// text goes as UCS-2 (UTF-16): 70 code units in one segment, 67 per segment when split, and a
/// surrogate pair is never split. This is how carriers and providers (e.g. Twilio's segment
/// calculator) count.
///
/// German umlauts (ä ö ü Ä Ö Ü) and ß are in the basic table; typographic quotes („ “ ’), the en
/// dash (–) and the non-breaking space are not, and one of them turns the whole text into UCS-2.
public struct SMSSegments: Sendable, Hashable, CustomStringConvertible {
    /// The SMS data coding.
    public enum Encoding: String, Sendable, Hashable {
        case gsm7, ucs2
    }

    public let encoding: Encoding
    /// Septets (GSM-7) or UTF-16 code units (UCS-2) of the text.
    public let units: Int
    /// Number of segments (0 for an empty text).
    public let segments: Int
    /// The characters that forced UCS-2 (empty for GSM-7).
    public let nonGSMCharacters: [Character]

    /// Counts `text`. O(n).
    public init(_ text: String) {
        var septets: [Int] = []
        var offending: [Character] = []
        for ch in text {
            var cost = 0
            var fits = true
            for s in ch.unicodeScalars {
                if SMSSegments.basic.contains(s) { cost += 1 } else if SMSSegments.extensionTable.contains(s) { cost += 2 } else { fits = false }
            }
            if !fits { offending.append(ch) }
            septets.append(cost)
        }
        if offending.isEmpty {
            encoding = .gsm7
            units = septets.reduce(0, +)
            segments = SMSSegments.pack(septets, single: 160, multi: 153)
            nonGSMCharacters = []
        } else {
            encoding = .ucs2
            let costs = text.unicodeScalars.map { $0.utf16.count }
            units = costs.reduce(0, +)
            segments = SMSSegments.pack(costs, single: 70, multi: 67)
            var seen = Set<Character>()
            nonGSMCharacters = offending.filter { seen.insert($0).inserted }
        }
    }

    /// Segments needed for indivisible items of the given sizes.
    static func pack(_ costs: [Int], single: Int, multi: Int) -> Int {
        let total = costs.reduce(0, +)
        if total == 0 { return 0 }
        if total <= single { return 1 }
        var segments = 1, used = 0
        for c in costs {
            if used + c > multi {
                segments += 1
                used = 0
            }
            used += c
        }
        return segments
    }

    public var description: String { "\(segments) segment(s), \(encoding.rawValue), \(units) units" }

    /// The GSM 03.38 basic character set (128 characters; escape excluded).
    static let basic: Set<Unicode.Scalar> = {
        let chars = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        return Set(chars.unicodeScalars)
    }()

    /// The GSM 03.38 extension table (each costs two septets).
    static let extensionTable: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
