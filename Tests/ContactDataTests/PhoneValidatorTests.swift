import Foundation
import Testing
@testable import ContactData

struct PhoneFixture: Decodable, Sendable, CustomTestStringConvertible {
    var input: String
    var country: String
    var valid: Bool
    var e164: String?
    var type: String?
    var testDescription: String { "\(country) \(input)" }
}

func phoneFixtures() -> [PhoneFixture] {
    struct File: Decodable { var numbers: [PhoneFixture] }
    guard let data = try? fixture("phone-numbers.json"), let file = try? JSONDecoder().decode(File.self, from: data) else {
        return []
    }
    return file.numbers
}

@Suite("Phone numbers")
struct PhoneValidatorTests {
    @Test("agrees with libphonenumber on real-format numbers of DE, AT, CH, NL, FR, GB, US", arguments: phoneFixtures())
    func reference(row: PhoneFixture) {
        let check = PhoneValidator.parse(row.input, defaultCountry: row.country)
        #expect(check.isValid == row.valid, "\(check.message)")
        #expect(check.e164 == row.e164)
        if row.valid { #expect(check.type?.rawValue == row.type) } else { #expect(check.problem != nil) }
    }

    @Test("the fixture covers every country with valid and invalid numbers")
    func coverage() {
        let rows = phoneFixtures()
        #expect(rows.count == 113)
        for country in ["DE", "AT", "CH", "NL", "FR", "GB", "US"] {
            let mine = rows.filter { $0.country == country }
            #expect(mine.filter { $0.valid }.count >= 9, "\(country)")
            #expect(mine.filter { !$0.valid }.count >= 3, "\(country)")
            #expect(mine.contains { $0.type == "mobile" || $0.type == "landline_or_mobile" })
        }
    }

    @Test("errors say what is wrong in plain words", arguments: [
        ("+49 1512345678", "DE", "the number has 10 digits after +49; German mobile numbers (+49 151…) have 11"),
        ("0176 1234567890", "DE", "the number has 13 digits after +49; German mobile numbers (+49 17…) have 10 or 11"),
        ("+49 14 1234567", "DE", "no German number starts with +49 14; check the digits after the country code"),
        ("+49 15", "DE", "the number has only 2 digits after +49; it is incomplete"),
        ("+41 76 123 45 6", "CH", "the number has 8 digits after +41; Swiss mobile numbers (+41 76…) have 9"),
        ("0664 12345678901234", "AT", "the number has 17 digits after +43; Austrian mobile numbers (+43 664…) have 9 to 13"),
        ("07700 900123", "GB", "+44 7700900123 is not in service: Ofcom keeps 07700 900000 to 900999 for TV and radio drama"),
        ("+1 212 136 5000", "US", "+1 2121365000 is not a possible US number: area code and exchange (the first and fourth digit) start with 2-9"),
        ("0151 2345678x", "DE", "the number contains the letter 'x'; write digits only"),
        ("0151 #2345678", "DE", "the number contains '#'; phone numbers have digits, spaces and + - / . ( ) only"),
        ("0151 +2345678", "DE", "a + may only stand at the start"),
        ("", "DE", "the number is empty"),
        ("+86 10 1234 5678", "DE", "the country code of +861… is not one pom has rules for (+49 DE, +43 AT, +41 CH, +31 NL, +33 FR, +44 GB, +1 US)"),
        ("0151 23456789", "JP", "pom has no numbering rules for JP; known: DE, AT, CH, NL, FR, GB, US"),
    ])
    func messages(input: String, country: String, message: String) {
        let check = PhoneValidator.parse(input, defaultCountry: country)
        #expect(!check.isValid)
        #expect(check.problem == message)
        #expect(check.message == message)
    }

    @Test("without a default country the number needs its country code")
    func noCountry() {
        #expect(PhoneValidator.parse("0151 23456789").problem == "the number has no country code; write it as +49 151 … or give the country")
        #expect(PhoneValidator.parse("+43 664 1234567").e164 == "+436641234567")
        #expect(PhoneValidator.parse("0041 79 123 45 67").e164 == "+41791234567")
        #expect(PhoneValidator.parse("tel:+33612345678").e164 == "+33612345678")
    }

    @Test("harmless corrections are noted")
    func notes() {
        let trunk = PhoneValidator.parse("+49 0151 23456789")
        #expect(trunk.e164 == "+4915123456789" && trunk.notes == ["dropped the 0 after +49"])
        let bracket = PhoneValidator.parse("+44 (0)20 7946 0958")
        #expect(bracket.e164 == "+442079460958" && bracket.notes == ["dropped the (0)"])
        let bare = PhoneValidator.parse("151 23456789", defaultCountry: "DE")
        #expect(bare.e164 == "+4915123456789" && bare.notes == ["read without the leading 0"])
        #expect(bare.message == "valid mobile number +4915123456789")
        #expect(bare.country == "DE" && bare.type == .mobile && bare.type!.canReceiveSMS)
        #expect(PhoneValidator.parse("030 12345678", defaultCountry: "de").type?.canReceiveSMS == false)
    }

    @Test("the shipped plans are well-formed")
    func plans() {
        let plans = PhoneValidator.standard.plans
        #expect(plans.map(\.iso) == ["DE", "AT", "CH", "NL", "FR", "GB", "US"])
        for plan in plans {
            #expect(!plan.source.isEmpty)
            for range in plan.ranges {
                #expect(!range.prefixes.isEmpty && !range.lengths.isEmpty, "\(plan.iso)")
                #expect(range.prefixes.allSatisfy { $0.allSatisfy { $0.isNumber } })
                #expect(range.lengths.allSatisfy { (3...15 - plan.countryCode.count).contains($0) }, "\(plan.iso) \(range.prefixes)")
            }
            // No prefix is claimed twice.
            let prefixes = plan.ranges.flatMap(\.prefixes)
            #expect(Set(prefixes).count == prefixes.count, "\(plan.iso)")
        }
        #expect(PhoneValidator.lengthList([11]) == "11")
        #expect(PhoneValidator.lengthList([10, 11]) == "10 or 11")
        #expect(PhoneValidator.lengthList([6, 7, 8, 9]) == "6 to 9")
        #expect(PhoneValidator.lengthList([7, 9, 10]) == "7, 9 or 10")
    }
}
