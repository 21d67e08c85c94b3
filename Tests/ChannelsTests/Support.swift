import Foundation
import Testing
import Vocabulary
import FeatureStore
@testable import Channels

/// A fresh temporary directory for one test (removed by the caller with `cleanUp`).
func temporaryDirectory(_ name: String = #function) throws -> URL {
    let base = FileManager.default.temporaryDirectory
        .appendingPathComponent("pom-channels-tests-\(name.filter(\.isLetter))-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    return base
}

func cleanUp(_ url: URL) { try? FileManager.default.removeItem(at: url) }

/// A fixed clock: 2026-03-02T08:15:00Z.
let fixedNow = UTCTimestamp.parse("2026-03-02T08:15:00Z")!

/// A message of `channel` with the ids numbered `n`.
func message(_ n: Int, channel: Channel = .sms, key: String? = nil, body: String = "Bitte zahlen Sie 12,34 €.") -> OutgoingMessage {
    let recipient: Recipient = switch channel {
    case .email: .email("erika\(n)@example.org")
    case .sms, .whatsapp, .robocall: .phone("+4915112345\(String(format: "%03d", n))")
    case .letter: .postal(["Erika Mustermann", "Hauptstraße \(n)", "10115 Berlin", "DE"])
    case .push: .pushToken("token-\(n)")
    }
    return OutgoingMessage(
        messageId: "M\(n)", idempotencyKey: key ?? "I\(n)/D1", customerId: "C\(n)", invoiceId: "I\(n)", channel: channel,
        contactPointId: "K\(n)", recipient: recipient, template: "reminder", tone: .friendly, locale: "de-DE",
        subject: channel == .email || channel == .letter || channel == .push ? "Erinnerung \(n)" : nil,
        bodyText: body, bodyHTML: channel == .email ? "<p>\(body)</p>" : nil,
        scheduledAt: fixedNow.addingTimeInterval(Double(n) * 60),
        metadata: MessageMetadata(amountMinor: 1234, currency: "EUR", dueDate: CalendarDate(year: 2026, month: 2, day: 20),
                                  paymentLink: "https://pay.example.com/p/\(n)"))
}
