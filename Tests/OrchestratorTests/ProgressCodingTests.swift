import Flows
import Foundation
import LinAlg
import Testing
@testable import Orchestrator

/// Seeded progress values that use every field: awkward texts (separators, `%`, non-ASCII), whole
/// and fractional instants before and after 1970, raised conditions, events with and without a step.
struct ProgressGenerator {
    var rng: Xoshiro256
    static let texts = ["consumer-dunning", "b2b|net;30", "a,b=c@d", "100%", "Mahnung für Kunden", "", "x\ny\tz", "%41"]
    static let ends: [FlowEnd] = [.paid, .stopped, .escalated, .legal, .writtenOff, .paymentPlan, .switched, .completed]

    /// Whole seconds only: those read back to the same text (a fraction may move by an ulp through `Date`).
    var wholeSeconds = false

    init(seed: UInt64, wholeSeconds: Bool = false) {
        rng = Xoshiro256(seed: seed)
        self.wholeSeconds = wholeSeconds
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func text() -> String { Self.texts[int(Self.texts.count)] + (int(2) == 0 ? "" : String(int(1000))) }

    mutating func date() -> Date {
        if wholeSeconds { return Date(timeIntervalSince1970: Double(int(2_000_000_000)) - 100_000_000) }
        switch int(4) {
        case 0: return Date(timeIntervalSince1970: Double(1_772_000_000 + int(10_000_000)))
        case 1: return Date(timeIntervalSince1970: 1_772_000_000 + rng.uniform() * 1e7)
        case 2: return Date(timeIntervalSince1970: -Double(int(1_000_000_000)) - rng.uniform())
        default: return Date(timeIntervalSince1970: Double(int(3)) * 0.1)
        }
    }

    mutating func ref() -> StepRef { StepRef(process: int(12), depth: int(3)) }

    mutating func progress() -> StoredProgress {
        var records: [StepRecord] = []
        for _ in 0..<int(9) {
            var raised: [RaisedCondition] = []
            for _ in 0..<int(3) { raised.append(RaisedCondition(FlowCondition.allCases[int(FlowCondition.allCases.count)], at: date())) }
            records.append(StepRecord(ref: ref(), action: text(), at: date(), outcome: int(2) == 0 ? .done : .skipped, raised: raised))
        }
        var events: [CaseEvent] = []
        for _ in 0..<int(4) {
            events.append(CaseEvent(CaseEvent.Kind.allCases[int(CaseEvent.Kind.allCases.count)], at: date(), step: int(2) == 0 ? nil : ref()))
        }
        let ended = int(3) == 0
        let flow = CaseProgress(flow: text(), flowVersion: int(5) == 0 ? -int(5) : int(100_000), records: records, events: events,
                                end: ended ? Self.ends[int(Self.ends.count)] : nil, endedAt: ended || int(4) == 0 ? date() : nil,
                                switchedTo: int(4) == 0 ? "other-flow" + String(int(9)) : nil)
        var messages: [String: StepRef] = [:]
        for _ in 0..<int(6) { messages["I\(int(100))/" + text() + "/processes[\(int(12))]"] = ref() }
        return StoredProgress(flow: flow, messages: messages)
    }
}

@Suite("Case progress storage")
struct ProgressCodingTests {
    @Test("The compact form reads back what the JSON form reads back, on seeded progress with every field")
    func compactEqualsJSON() throws {
        var generator = ProgressGenerator(seed: 41)
        for _ in 0..<2_000 {
            let progress = generator.progress()
            let compact = progress.compact()
            let viaJSON = try StoredProgress(json: progress.json())
            #expect(try StoredProgress(stored: compact) == viaJSON, "\(compact)")
            let again = try StoredProgress(stored: compact)
            #expect(try StoredProgress(stored: again.compact()) == again)
            #expect(!compact.contains("\n") && compact.hasPrefix("~1|"))
        }
    }

    @Test("Progress stored as JSON by earlier versions is still read")
    func oldRowsStillRead() throws {
        var generator = ProgressGenerator(seed: 42)
        for _ in 0..<500 {
            let json = generator.progress().json()
            #expect(try StoredProgress(stored: json) == StoredProgress(json: json))
        }
        // A row as the JSON form wrote it, verbatim.
        let old = #"{"flow":{"events":[{"at":1772442000,"kind":"visited"}],"flow":"b2c-consumer-dunning","flow_version":1,"records":[{"action":"send_email_pre_due_reminder","at":1772100000,"outcome":"done","raised":[{"at":1772103600,"condition":"bounced"}],"ref":{"depth":0,"process":0}}]},"messages":{"I1\/b2c-consumer-dunning@1\/processes[0]":{"depth":0,"process":0}}}"#
        let read = try StoredProgress(stored: old)
        #expect(read.flow.records.map(\.raised) == [[RaisedCondition(.bounced, at: Date(timeIntervalSince1970: 1_772_103_600))]])
        #expect(read.flow.events == [CaseEvent(.visited, at: Date(timeIntervalSince1970: 1_772_442_000))])
        #expect(read.messages == ["I1/b2c-consumer-dunning@1/processes[0]": StepRef(process: 0)])
        #expect(try StoredProgress(stored: read.compact()) == read)
    }

    @Test("Every cut of a compact text is refused with its byte offset or is itself a compact text; damaged bytes never crash")
    func damagedTextIsRefused() throws {
        var generator = ProgressGenerator(seed: 43, wholeSeconds: true)
        for _ in 0..<40 {
            let bytes = Array(generator.progress().compact().utf8)
            for cut in 0..<bytes.count {
                let text = String(decoding: bytes[..<cut], as: UTF8.self)
                do {
                    let read = try StoredProgress(stored: text)
                    #expect(read.compact() == text)
                } catch let error as ProgressFormatError {
                    #expect(error.offset >= 0 && error.offset <= text.utf8.count)
                }
            }
        }
        #expect(throws: ProgressFormatError(offset: 8, message: "expected a number")) {
            try StoredProgress(stored: "~1|flow|x|||||||")
        }
    }
}
