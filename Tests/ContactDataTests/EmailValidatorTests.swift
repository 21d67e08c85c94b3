import Foundation
import Testing
@testable import ContactData

/// The fixtures of this target (made by scripts/reference/contact-data.py).
func fixture(_ name: String) throws -> Data {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/contact-data/\(name)")
    return try Data(contentsOf: url)
}

@Suite("Punycode (RFC 3492)")
struct PunycodeTests {
    @Test("RFC 3492 section 7.1 samples and German labels", arguments: [
        ("\u{0644}\u{064A}\u{0647}\u{0645}\u{0627}\u{0628}\u{062A}\u{0643}\u{0644}\u{0645}\u{0648}\u{0634}\u{0639}\u{0631}\u{0628}\u{064A}\u{061F}",
         "egbpdaj6bu4bxfgehfvwxn"),
        ("\u{4ED6}\u{4EEC}\u{4E3A}\u{4EC0}\u{4E48}\u{4E0D}\u{8BF4}\u{4E2D}\u{6587}", "ihqwcrb4cv8a8dqg056pqjye"),
        ("3\u{5E74}B\u{7D44}\u{91D1}\u{516B}\u{5148}\u{751F}", "3B-ww4c5e180e575a65lsy2b"),
        ("-> $1.00 <-", "-> $1.00 <--"),
        ("bücher", "bcher-kva"),
        ("münchen", "mnchen-3ya"),
        ("straße", "strae-oqa"),
    ])
    func samples(unicode: String, puny: String) {
        #expect(Punycode.encode(unicode) == puny)
        #expect(Punycode.decode(puny) == unicode)
    }

    @Test("labels from the IDNA fixture round-trip")
    func fixtureLabels() throws {
        struct File: Decodable {
            struct Domain: Decodable { var unicode: String; var ascii: String; var labels: [Label] }
            struct Label: Decodable { var unicode: String; var punycode: String }
            var domains: [Domain]
        }
        let file = try JSONDecoder().decode(File.self, from: fixture("idna.json"))
        #expect(file.domains.count == 14)
        for domain in file.domains {
            for label in domain.labels {
                #expect(Punycode.encode(label.unicode) == label.punycode, "\(label.unicode)")
                #expect(Punycode.decode(label.punycode) == label.unicode)
            }
            // The whole domain as the e-mail check encodes it matches the IDNA library (UTS 46).
            let check = EmailValidator.validate("anna@\(domain.unicode)")
            let expected = domain.ascii.hasSuffix(".example") ? nil : "anna@\(domain.ascii)"
            #expect(check.address == expected, "\(domain.unicode)")
        }
    }

    @Test("invalid Punycode is refused")
    func invalid() {
        #expect(Punycode.decode("ü") == nil)
        #expect(Punycode.decode("a-99999999999") == nil)  // overflow
        #expect(Punycode.decode("abc-!") == nil)
    }
}

@Suite("E-mail validation")
struct EmailValidatorTests {
    @Test("valid addresses and their stored form", arguments: [
        ("anna.schmidt@web.de", "anna.schmidt@web.de", "web.de"),
        ("  Anna.Schmidt+rechnung@GMX.de ", "Anna.Schmidt+rechnung@gmx.de", "gmx.de"),
        ("o'brien@company.co.uk", "o'brien@company.co.uk", "company.co.uk"),
        ("info@müller-gmbh.at", "info@xn--mller-gmbh-9db.at", "müller-gmbh.at"),
        ("info@xn--mller-gmbh-9db.at", "info@xn--mller-gmbh-9db.at", "müller-gmbh.at"),
        ("kontakt@bücher。de", "kontakt@xn--bcher-kva.de", "bücher.de"),
        ("a_b-c!#$%&*/=?^`{|}~@x-y.io", "a_b-c!#$%&*/=?^`{|}~@x-y.io", "x-y.io"),
        ("user@sub.domain.xn--p1ai", "user@sub.domain.xn--p1ai", "sub.domain.рф"),
    ])
    func valid(input: String, address: String, domain: String) {
        let check = EmailValidator.validate(input)
        #expect(check.verdict == .valid, "\(check.problems)")
        #expect(check.address == address)
        #expect(check.unicodeDomain == domain)
        #expect(check.problems.isEmpty && check.suggestion == nil && check.message == "valid")
    }

    @Test("invalid addresses say what is wrong", arguments: [
        ("", EmailProblem.Code.empty, "the address is empty"),
        ("anna schmidt@web.de", .whitespace, "the address contains a space; e-mail addresses have none"),
        ("anna.web.de", .missingAt, "there is no @; an address looks like name@example.org"),
        ("anna@web@web.de", .multipleAt, "the address has more than one @"),
        ("@web.de", .localEmpty, "nothing stands before the @"),
        (String(repeating: "a", count: 65) + "@web.de", .localTooLong, "the part before the @ has 65 characters; at most 64 are possible"),
        ("jörg@web.de", .localNonASCII, "'ö' before the @ is not a plain ASCII character; few mail providers accept such addresses"),
        (".anna@web.de", .localDots, "the part before the @ starts or ends with a dot or has two dots in a row"),
        ("anna..s@web.de", .localDots, "the part before the @ starts or ends with a dot or has two dots in a row"),
        ("anna,s@web.de", .localCharacter, "',' may not appear before the @"),
        ("\"anna.s\"@web.de", .quotedLocal, "quoted names (\"...\"@) are legal but no mail provider hands them out; ask for the address again"),
        ("anna@", .domainEmpty, "nothing follows the @; the domain (such as example.org) is missing"),
        ("anna@[192.0.2.1]", .ipLiteral, "'[192.0.2.1]' is an IP address, not a domain; customer addresses need a domain name"),
        ("anna@web..de", .labelEmpty, "the domain web..de has an empty part (a dot at the start or two dots in a row)"),
        ("anna@web.de.", .labelEmpty, "the domain ends with a dot"),
        ("anna@-web.de", .labelHyphen, "the domain part '-web' starts or ends with a hyphen"),
        ("anna@ab--cd.de", .labelHyphen, "the domain part 'ab--cd' has hyphens in the third and fourth place, which only xn-- parts may"),
        ("anna@web_mail.de", .labelCharacter, "'_' may not appear in a domain name"),
        ("anna@xn--a.de", .badPunycode, "'xn--a' is not a valid internationalised domain part"),
        ("anna@" + String(repeating: "a", count: 64) + ".de", .labelTooLong,
         "the domain part '\(String(repeating: "a", count: 64))' has 64 characters once encoded; at most 63 are possible"),
        ("anna@webde", .singleLabel, "the domain 'webde' has no dot; a mail domain looks like example.org"),
        ("anna@web.123", .badTopLevel, "'.123' is not a top-level domain; it ends like .de, .com or .org"),
        ("anna@web.d", .badTopLevel, "'.d' is not a top-level domain; it ends like .de, .com or .org"),
        ("anna@example.com", .reservedDomain, "example.com is an example domain (RFC 2606), so no mail can reach it"),
        ("anna@shop.example.org", .reservedDomain, "shop.example.org is an example domain (RFC 2606), so no mail can reach it"),
        ("anna@firma.test", .reservedDomain, "firma.test is a test domain (RFC 6761), so no mail can reach it"),
        ("anna@nowhere.invalid", .reservedDomain, "nowhere.invalid is an invalid-by-definition domain (RFC 6761), so no mail can reach it"),
        ("anna@localhost", .singleLabel, "the domain 'localhost' has no dot; a mail domain looks like example.org"),
        ("anna@printer.localhost", .reservedDomain, "printer.localhost is the local host (RFC 6761), so no mail can reach it"),
        ("anna@nas.local", .reservedDomain, "nas.local is a local-network name (RFC 6762), so no mail can reach it"),
        ("anna@router.home.arpa", .reservedDomain, "router.home.arpa is a home-network name (RFC 8375), so no mail can reach it"),
    ])
    func invalid(input: String, code: EmailProblem.Code, message: String) {
        let check = EmailValidator.validate(input)
        #expect(check.verdict == .invalid)
        #expect(check.address == nil)
        #expect(check.problems.map(\.code) == [code])
        #expect(check.message == message)
        #expect(check.problems.allSatisfy { $0.isFatal })
    }

    @Test("length limits: 254 for the address, 253 for the domain")
    func lengths() {
        let label = String(repeating: "a", count: 60)
        let domain = [label, label, label, label].joined(separator: ".") + ".de"  // 246 characters
        #expect(EmailValidator.validate("abc@" + domain).verdict == .valid)
        let long = EmailValidator.validate("abcdefgh@" + domain)
        #expect(long.problems.map(\.code) == [.addressTooLong])
        #expect(long.message == "the address has 255 characters; at most 254 are possible")
        let tooLongDomain = [label, label, label, label, "abcdefg"].joined(separator: ".") + ".de"
        #expect(EmailValidator.validate("a@" + tooLongDomain).problems.map(\.code) == [.domainTooLong])
    }

    @Test("likely typos of big providers get a suggestion", arguments: [
        ("anna@gmial.com", "anna@gmail.com"),
        ("anna@gmail.con", "anna@gmail.com"),
        ("anna@gmai.com", "anna@gmail.com"),
        ("anna@gmailcom", nil),  // no dot: invalid, not a typo
        ("anna@hotmial.com", "anna@hotmail.com"),
        ("anna@hotmail.dee", "anna@hotmail.de"),
        ("anna@yahooo.de", "anna@yahoo.de"),
        ("anna@yaho.de", "anna@yahoo.de"),
        ("anna@wbe.de", "anna@web.de"),
        ("anna@web.dr", "anna@web.de"),
        ("anna@gmx.ed", "anna@gmx.de"),
        ("anna@gmc.de", "anna@gmx.de"),
        ("anna@t-onlin.de", "anna@t-online.de"),
        ("anna@tonline.de", "anna@t-online.de"),
        ("anna@outlok.com", "anna@outlook.com"),
        ("anna@gmail.de", "anna@gmail.com"),
        ("anna@icloud.co", "anna@icloud.com"),
    ])
    func typos(input: String, suggestion: String?) {
        let check = EmailValidator.validate(input)
        #expect(check.suggestion == suggestion)
        if let suggestion {
            #expect(check.verdict == .risky)
            #expect(check.address == input)
            #expect(check.problems.map(\.code) == [.likelyTypo])
            #expect(check.message == "\(input.split(separator: "@")[1]) looks like a typo; did you mean \(suggestion)?")
        } else {
            #expect(check.verdict == .invalid)
        }
    }

    @Test("provider domains and ordinary company domains are not typos")
    func notTypos() {
        for address in ["a@gmail.com", "a@yahoo.fr", "a@gmx.at", "a@gmx.ch", "a@web.de", "a@live.de", "a@posteo.de",
                        "a@mailbox.org", "a@siemens.com", "a@bahn.de", "a@example-shop.de", "a@gmxx-consulting.de"] {
            let check = EmailValidator.validate(address)
            #expect(check.verdict == .valid, "\(address): \(check.problems)")
        }
    }

    @Test("disposable domains, and their subdomains, are risky")
    func disposable() {
        let check = EmailValidator.validate("x@mailinator.com")
        #expect(check.verdict == .risky && check.isDisposable)
        #expect(check.address == "x@mailinator.com")
        #expect(check.message == "mailinator.com hands out throw-away mailboxes; ask for a lasting address")
        #expect(EmailValidator.validate("x@YOPMAIL.com").isDisposable)
        #expect(EmailValidator.validate("x@inbox.guerrillamail.com").isDisposable)
        #expect(EmailValidator.validate("x@10minutemail.com").isDisposable)
        #expect(!EmailValidator.validate("x@mail.de").isDisposable)
        #expect(!EmailValidator.validate("x@gmail.com").isDisposable)
    }

    @Test("the shipped lists are loaded and consistent")
    func lists() {
        let v = EmailValidator.standard
        #expect(v.disposableDomains.count == 455)
        #expect(v.providerDomains.count == 63)
        #expect(v.disposableDomains.isDisjoint(with: v.providerDomains))
        for d in v.disposableDomains.union(v.providerDomains) {
            #expect(d == d.lowercased() && d.contains(".") && !d.contains(" "), "\(d)")
        }
    }
}
