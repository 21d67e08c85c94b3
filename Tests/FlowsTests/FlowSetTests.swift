import Foundation
import Testing
@testable import Flows

func flowText(_ name: String, switchTo: String? = nil, segment: String = "") -> String {
    var text = "name: \(name)\nversion: 1\n\(segment)processes:\n  - day: 0\n    action: send_email_reminder\n"
    if let switchTo { text += "  - day: 10\n    action: switch_flow\n    settings: {flow: \(switchTo)}\n" }
    return text
}

@Suite("Flow sets and assignment")
struct FlowSetTests {
    @Test("duplicate names are reported at the later file's name")
    func duplicates() throws {
        let a = try FlowParser.parse(text: flowText("dunning"), file: "a.yaml")
        let b = try FlowParser.parse(text: "# second copy\n" + flowText("dunning"), file: "b.yaml")
        let errors = FlowValidator.validate(set: [a, b])
        #expect(errors == [FlowError(file: "b.yaml", line: 2, field: "name",
                                     message: "flow 'dunning' is also defined in a.yaml:1; flow names must be unique")])
    }

    @Test("switch_flow to a flow not in the set")
    func unknownTarget() throws {
        let a = try FlowParser.parse(text: flowText("a", switchTo: "b2b-dunnig"), file: "a.yaml")
        let b = try FlowParser.parse(text: flowText("b2b-dunning"), file: "b.yaml")
        let errors = FlowValidator.validate(set: [a, b])
        #expect(errors.count == 1)
        #expect(errors.first?.line == 8)
        #expect(errors.first?.field == "processes[1].settings.flow")
        #expect(errors.first?.message == "no flow named 'b2b-dunnig' in this set; did you mean b2b-dunning? Flows: a, b2b-dunning")
        #expect(FlowValidator.validate(set: [b]).isEmpty)
    }

    @Test("switch_flow loops, also through backups and to the flow itself")
    func loops() throws {
        let a = try FlowParser.parse(text: flowText("a", switchTo: "b"), file: "a.yaml")
        let b = try FlowParser.parse(text: flowText("b", switchTo: "c"), file: "b.yaml")
        let c = try FlowParser.parse(text: """
            name: c
            version: 1
            processes:
              - day: 0
                action: offer_payment_plan
                settings: {installments: 3}
                backup:
                  action: switch_flow
                  on: [rejected]
                  settings:
                    flow: a
            """, file: "c.yaml")
        let errors = FlowValidator.validate(set: [c, b, a])
        #expect(errors == [FlowError(file: "c.yaml", line: 11, field: "processes[0].backup.settings.flow",
                                     message: "switch_flow loop: a -> b -> c -> a; a case could switch for ever")])
        let selfLoop = try FlowParser.parse(text: flowText("s", switchTo: "s"), file: "s.yaml")
        #expect(FlowValidator.validate(set: [selfLoop]).map(\.message) == ["switch_flow to the flow itself would restart it for ever"])
        // A chain without a loop is fine.
        let cFree = try FlowParser.parse(text: flowText("c"), file: "c.yaml")
        #expect(FlowValidator.validate(set: [a, b, cFree]).isEmpty)
    }

    @Test("assignment: segment rules, priority, specificity, name")
    func assignment() throws {
        let catchAll = try FlowParser.parse(text: flowText("default"), file: "d.yaml")
        let consumerDE = try FlowParser.parse(text: flowText("consumer-de", segment: "segment: {customer_kind: consumer, country: [DE, AT], max_amount: 5000}\n"), file: "c.yaml")
        let large = try FlowParser.parse(text: flowText("large", segment: "segment: {min_amount: 5000, priority: 5}\n"), file: "l.yaml")
        let business = try FlowParser.parse(text: flowText("business", segment: "segment: {customer_kind: business, currency: [EUR, CHF]}\n"), file: "b.yaml")
        let vip = try FlowParser.parse(text: flowText("vip", segment: "segment: {tags: [vip], priority: 100}\n"), file: "v.yaml")
        let flows = [catchAll, consumerDE, large, business, vip]

        func pick(_ kind: CustomerKind, _ country: String, _ cents: Int64, _ currency: String = "EUR", tags: Set<String> = []) -> String? {
            FlowAssignment.assign(customer: .init(kind: kind, country: country, tags: tags),
                                  invoice: .init(amountMinor: cents, currency: currency), flows: flows)?.name
        }
        #expect(pick(.consumer, "DE", 12_000) == "consumer-de")       // more specific than the catch-all
        #expect(pick(.consumer, "DE", 499_999) == "consumer-de")
        #expect(pick(.consumer, "DE", 500_000) == "large")            // max_amount is exclusive, min inclusive
        #expect(pick(.consumer, "FR", 12_000) == "default")
        #expect(pick(.business, "DE", 12_000) == "business")
        #expect(pick(.business, "DE", 12_000, "USD") == "default")
        #expect(pick(.business, "DE", 900_000) == "large")            // priority beats specificity
        #expect(pick(.consumer, "DE", 12_000, tags: ["vip", "x"]) == "vip")
        #expect(FlowAssignment.assign(customer: .init(kind: .consumer, country: "FR"), invoice: .init(amountMinor: 1, currency: "EUR"),
                                      flows: [consumerDE, business]) == nil)
        // Ties: same priority and specificity -> lower name, then higher version; order of the list does not matter.
        let x1 = try FlowParser.parse(text: flowText("x"), file: "x.yaml")
        var x2 = x1; x2.version = 2
        let w = try FlowParser.parse(text: flowText("w"), file: "w.yaml")
        for order in [[x1, x2, w], [w, x2, x1], [x2, x1]] {
            let chosen = FlowAssignment.assign(customer: .init(kind: .consumer, country: "DE"),
                                               invoice: .init(amountMinor: 1, currency: "EUR"), flows: order)
            #expect(chosen.map { "\($0.name) v\($0.version)" } == (order.contains(w) ? "w v1" : "x v2"))
        }
    }

    @Test("invoice amounts use the currency's decimals")
    func exponents() {
        #expect(FlowAssignment.Invoice(amountMinor: 12_345, currency: "EUR").amount == Decimal(string: "123.45"))
        #expect(FlowAssignment.Invoice(amountMinor: 12_345, currency: "JPY").amount == 12_345)
        #expect(FlowAssignment.Invoice(amountMinor: 12_345, currency: "KWD").amount == Decimal(string: "12.345"))
    }
}
