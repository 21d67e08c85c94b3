import Foundation
import Testing
import QRCodes

/// The symbols of `scripts/reference/qr-codes.py` (python-qrcode).
struct ReferenceFixture: Decodable {
    struct Case: Decodable {
        var text: String
        var error_correction: String
        var version: Int
        var symbols_by_mask: [[String]]
    }
    var generator: String
    var cases: [Case]

    static func load() throws -> ReferenceFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/qrcode/reference.json")
        return try JSONDecoder().decode(ReferenceFixture.self, from: Data(contentsOf: url))
    }
}

@Suite("QR codes")
struct QRCodeTests {
    static let levels: [String: QRCode.ErrorCorrection] = ["l": .low, "m": .medium, "q": .quartile, "h": .high]

    func rows(_ code: QRCode) -> [String] {
        (0..<code.size).map { r in String((0..<code.size).map { code[r, $0] ? "1" : "0" }) }
    }

    @Test("libqrencode's symbol equals python-qrcode's for the same text, level and mask, module for module")
    func matchesReference() throws {
        let fixture = try ReferenceFixture.load()
        #expect(fixture.cases.count == 4)
        for c in fixture.cases {
            let code = try QRCode(text: c.text, errorCorrection: try #require(Self.levels[c.error_correction]))
            #expect(code.version == c.version, "\(c.text)")
            #expect(code.size == 17 + 4 * c.version)
            let ours = rows(code)
            let matching = c.symbols_by_mask.indices.filter { c.symbols_by_mask[$0] == ours }
            #expect(matching.count == 1, "\(c.text): our symbol matches the reference's masks \(matching)")
        }
    }

    @Test("Finder patterns sit in three corners with their separators, timing patterns alternate")
    func structure() throws {
        let code = try QRCode(text: "https://pay.example.com/p/abc")
        let n = code.size
        for (r0, c0) in [(0, 0), (0, n - 7), (n - 7, 0)] {
            for r in 0..<7 {
                for c in 0..<7 {
                    let ring = max(abs(r - 3), abs(c - 3))
                    #expect(code[r0 + r, c0 + c] == (ring != 2), "finder at (\(r0), \(c0)) module (\(r), \(c))")
                }
            }
        }
        // Separators: the light row and column around each finder.
        for i in 0..<8 {
            #expect(!code[7, i] && !code[i, 7] && !code[7, n - 1 - i] && !code[i, n - 8] && !code[n - 8, i] && !code[n - 1 - i, 7])
        }
        for i in 8..<(n - 8) {
            #expect(code[6, i] == (i % 2 == 0) && code[i, 6] == (i % 2 == 0))
        }
        // The dark module beside the lower-left finder.
        #expect(code[n - 8, 8])
    }

    @Test("SVG: one path of the dark modules inside a square of size plus quiet zone, text escaped in the title")
    func svg() throws {
        let code = try QRCode(text: "a<b&\"c\"")
        let svg = code.svg(moduleSize: 3, margin: 4)
        let side = code.size + 8
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(side * 3)\" height=\"\(side * 3)\" viewBox=\"0 0 \(side) \(side)\""))
        #expect(svg.contains("<title>a&lt;b&amp;&quot;c&quot;</title>"))
        #expect(!svg.contains("a<b"))
        // The path's runs cover exactly the dark modules.
        let d = try #require(svg.range(of: " d=\"").map { svg[$0.upperBound...].prefix { $0 != "\"" } })
        var covered = Set<Int>()
        for run in d.split(separator: "z") {
            let parts = run.dropFirst().split(separator: "h")
            let xy = parts[0].split(separator: " ").map { Int($0)! }
            let w = Int(parts[1].split(separator: "v")[0])!
            for x in xy[0]..<(xy[0] + w) { covered.insert((xy[1] - 4) * code.size + x - 4) }
        }
        #expect(covered == Set(code.modules.indices.filter { code.modules[$0] }))
    }

    @Test("PNG: libpng reads back the image, each module a scale × scale block of black or white")
    func png() throws {
        let code = try QRCode(text: "https://pay.example.com/p/QzEASTEAaQ9gQA.1n6t8ZgYyc1a5Pcd")
        let bytes = try code.png(scale: 5, margin: 4)
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let image = try PNGImage.decodeGray(bytes)
        let side = (code.size + 8) * 5
        #expect(image.width == side && image.height == side)
        for r in -4..<(code.size + 4) {
            for c in -4..<(code.size + 4) {
                let dark = (0..<code.size).contains(r) && (0..<code.size).contains(c) && code[r, c]
                for (dy, dx) in [(0, 0), (4, 4), (2, 3)] {
                    let p = image.pixels[((r + 4) * 5 + dy) * side + (c + 4) * 5 + dx]
                    #expect(p == (dark ? 0 : 255))
                }
            }
        }
        #expect(throws: QRCodeError.self) { try PNGImage.decodeGray(Array(bytes.prefix(40))) }
    }

    @Test("An empty or too long text is an error that says what fits")
    func errors() throws {
        #expect(throws: QRCodeError.empty) { try QRCode(text: "") }
        #expect(throws: QRCodeError.tooLong(bytes: 3000)) { try QRCode(text: String(repeating: "x", count: 3000)) }
        #expect(QRCodeError.tooLong(bytes: 3000).description.contains("3000 bytes"))
        // 2331 bytes is version 40-M's capacity in byte mode (ISO/IEC 18004 Table 7): it fits, one more does not.
        #expect(try QRCode(text: String(repeating: "x", count: 2331), errorCorrection: .medium).version == 40)
        #expect(throws: QRCodeError.tooLong(bytes: 2332)) { try QRCode(text: String(repeating: "x", count: 2332), errorCorrection: .medium) }
    }
}
