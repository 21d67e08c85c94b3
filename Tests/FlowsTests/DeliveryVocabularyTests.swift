import Testing
import Vocabulary

@Suite struct DeliveryVocabularyTests {
    @Test("indices are positions in allCases; the 756 actions are numbered channel-major and round-trip")
    func indices() {
        for (i, c) in Channel.allCases.enumerated() { #expect(c.index == i) }
        for (i, t) in Tone.allCases.enumerated() { #expect(t.index == i) }
        for (i, d) in Weekday.allCases.enumerated() { #expect(d.index == i) }
        for (i, h) in HourBucket.allCases.enumerated() { #expect(h.index == i) }
        var k = 0
        for c in Channel.allCases {
            for t in Tone.allCases {
                for d in Weekday.allCases {
                    for h in HourBucket.allCases {
                        let a = DeliveryAction(channel: c, tone: t, weekday: d, hour: h)
                        #expect(a.index == k && DeliveryAction(index: k) == a && DeliveryAction.all[k] == a)
                        k += 1
                    }
                }
            }
        }
        #expect(k == DeliveryAction.count && k == 756)
    }
}
