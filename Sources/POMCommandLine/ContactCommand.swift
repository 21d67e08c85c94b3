import ArgumentParser
import ContactData
import Foundation

/// `contact`: contact-data tools.
public struct ContactCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "contact",
        abstract: "Check e-mail addresses and phone numbers offline.",
        subcommands: [ContactCheck.self])

    public init() {}
}

/// `contact check --email X | --phone X [--country DE]`.
public struct ContactCheck: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check one e-mail address or phone number: syntax, domain, typos, disposable domains; E.164 and line type.",
        discussion: "Exit status 0 when the address or number is usable (valid or risky), 1 when it is invalid.")

    @Option(help: "An e-mail address.")
    var email: String?

    @Option(help: "A phone number, with + and country code or in national format with --country.")
    var phone: String?

    @Option(help: "ISO country code for numbers without a country code (DE, AT, CH, NL, FR, GB, US).")
    var country: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    public init() {}

    public func validate() throws {
        if (email == nil) == (phone == nil) { throw ValidationError("give exactly one of --email and --phone") }
        if country != nil && phone == nil { throw ValidationError("--country applies to --phone only") }
    }

    public func run() throws {
        let (text, usable) = ContactCheck.render(email: email, phone: phone, country: country, json: json)
        print(text)
        if !usable { throw ExitCode(1) }
    }

    /// The printed result and whether the address or number is usable.
    public static func render(email: String?, phone: String?, country: String?, json: Bool) -> (String, Bool) {
        var object: [String: String] = [:]
        let line: String
        let usable: Bool
        if let email {
            let check = EmailValidator.validate(email)
            usable = check.verdict != .invalid
            object = ["kind": "email", "input": email, "verdict": check.verdict.rawValue, "message": check.message]
            object["address"] = check.address
            object["suggestion"] = check.suggestion
            object["domain"] = check.unicodeDomain
            line = check.verdict == .valid ? "valid \(check.address!)" : "\(check.verdict.rawValue): \(check.message)"
        } else {
            let check = PhoneValidator.parse(phone ?? "", defaultCountry: country)
            usable = check.isValid
            object = ["kind": "phone", "input": phone ?? "", "verdict": check.isValid ? "valid" : "invalid", "message": check.message]
            object["e164"] = check.e164
            object["country"] = check.country
            object["type"] = check.type?.rawValue
            if !check.notes.isEmpty { object["notes"] = check.notes.joined(separator: "; ") }
            line = check.isValid ? "\(check.message) (\(check.country!))" : "invalid: \(check.message)"
        }
        guard json else { return (line, usable) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(object)) ?? Data()
        return (String(decoding: data, as: UTF8.self), usable)
    }
}
