import Channels
import FeatureStore
import Foundation
import Vocabulary

/// Rendering one message from the bundled templates (what a run's dispatch does per message, on
/// one core): an e-mail (subject, text and the HTML frame), an SMS (text and segments) and a
/// letter (text and the printable document with the payment link's QR code), German, first dunning.
func templateBenchmarks() throws -> [BenchResult] {
    let catalogue = try TemplateCatalogue.bundled()
    let n = size(20_000, quick: 2_000)
    let cases = (0..<n).map { i in
        CaseData(customerName: nil, invoiceNumber: "C\(1_000_000 + i)-I1", amountMinor: Int64(2_000 + 37 * i % 48_000), currency: "EUR",
                 dueDate: CalendarDate(year: 2026, month: 10, day: 1 + i % 28), asOf: CalendarDate(year: 2026, month: 11, day: 29),
                 paymentLink: "https://pay.example.com/p/" + String(repeating: "x", count: 22) + String(i),
                 creditorName: "pom demo GmbH", postalAddress: ["\(i % 120 + 1) Hauptstrasse", "DE-10115"])
    }
    var results: [BenchResult] = []
    for channel in [Channel.email, .sms, .letter] {
        let count = channel == .letter ? n / 10 : n
        results.append(measureCPU("templates", "render \(countLabel(count)) \(channel.rawValue) messages (de, first dunning), one core", runs: 3) {
            var bytes = 0
            for data in cases.prefix(count) {
                let m = catalogue.render(channel, purpose: .firstDunning, tone: .neutral, locale: "de-DE", data: data)
                bytes += m.text.utf8.count + (m.html?.utf8.count ?? 0)
            }
            blackHole(bytes)
        })
        let last = results.count - 1
        results[last].rate = Double(count) / results[last].medianSeconds
        results[last].rateUnit = "messages/s"
        results[last].note! += String(format: ", %.1f µs per message", results[last].medianSeconds / Double(count) * 1e6)
    }
    return results
}
