import Testing
@testable import Channels

@Suite("SMS segments (GSM 03.38 / UCS-2)")
struct SMSSegmentsTests {
    @Test("the GSM-7 tables have 127 basic characters (escape excluded) and 10 extension characters")
    func tables() {
        #expect(SMSSegments.basic.count == 127)
        #expect(SMSSegments.extensionTable.count == 10)
    }

    @Test("GSM-7: 160 septets in one segment, then 153 per segment")
    func gsm7Boundaries() {
        #expect(SMSSegments("").segments == 0)
        let one = SMSSegments(String(repeating: "a", count: 160))
        #expect(one.encoding == .gsm7 && one.units == 160 && one.segments == 1)
        #expect(SMSSegments(String(repeating: "a", count: 161)).segments == 2)
        #expect(SMSSegments(String(repeating: "a", count: 306)).segments == 2)
        #expect(SMSSegments(String(repeating: "a", count: 307)).segments == 3)
        #expect(SMSSegments(String(repeating: "a", count: 459)).segments == 3)
    }

    @Test("umlauts and ß stay GSM-7; the euro sign costs two septets and an escape pair is never split")
    func germanAndEuro() {
        let de = SMSSegments("Grüße aus Köln: Straße, Öl, Übung, Ärger")
        #expect(de.encoding == .gsm7)
        #expect(de.units == 40)
        let euros = SMSSegments(String(repeating: "€", count: 80))
        #expect(euros.encoding == .gsm7 && euros.units == 160 && euros.segments == 1)
        // 81 euro signs = 162 septets: 76 pairs fit in 153 septets, so 76 + 5 in two segments.
        #expect(SMSSegments(String(repeating: "€", count: 81)).segments == 2)
        // 152 a's then a euro sign: the pair would straddle the boundary, so it opens segment 2.
        let straddle = SMSSegments(String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152))
        #expect(straddle.units == 306)
        #expect(straddle.segments == 3)
    }

    @Test("typographic quotes, dashes and emoji force UCS-2: 70 units, then 67 per segment")
    func ucs2() {
        let quoted = SMSSegments("Bitte „jetzt“ zahlen – danke")
        #expect(quoted.encoding == .ucs2)
        #expect(quoted.nonGSMCharacters == ["„", "“", "–"])
        #expect(SMSSegments("„" + String(repeating: "a", count: 69)).segments == 1)
        #expect(SMSSegments("„" + String(repeating: "a", count: 70)).segments == 2)
        #expect(SMSSegments("„" + String(repeating: "a", count: 133)).segments == 2)
        #expect(SMSSegments("„" + String(repeating: "a", count: 134)).segments == 3)
        // An emoji is a surrogate pair (2 units): 35 fit in one segment; 36 need two, 33 + 3.
        #expect(SMSSegments(String(repeating: "😀", count: 35)).segments == 1)
        let emoji = SMSSegments(String(repeating: "😀", count: 36))
        #expect(emoji.units == 72 && emoji.segments == 2)
    }
}
