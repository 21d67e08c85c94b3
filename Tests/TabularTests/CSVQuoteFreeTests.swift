import Foundation
import LinAlg
import Testing
@testable import Tabular

/// The quote-free path (numbers parsed straight from the bytes, ranges on several threads) against
/// the general record-by-record path, on seeded random files.
@Suite struct CSVQuoteFreeTests {

    /// The first row where two columns differ in any bit (or in length), for short failure messages.
    func firstDifference(_ a: [Double], _ b: [Double]) -> Int? {
        guard a.count == b.count else { return Swift.min(a.count, b.count) }
        return a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
    }

    /// Expects `b` to hold the rows of `a`: the same count, numbers bit for bit, the same strings.
    /// Reads `csv` in one general pass, expects `rows` rows, and the same columns from `strategy`
    /// for every number of ranges in `parts`; returns the one-pass columns.
    @discardableResult
    func expectOnePassEverywhere(_ csv: CSVFile, rows: Int, numeric: [String], texts: [String], parts: [Int],
                                 strategy: (Int) -> CSVFile.Strategy, sourceLocation: SourceLocation = #_sourceLocation) throws -> CSVColumns {
        let one = try csv.read(numeric: numeric, text: texts, strategy: .general(parts: 1))
        #expect(one.rowCount == rows, sourceLocation: sourceLocation)
        for n in parts {
            expectSame(one, try csv.read(numeric: numeric, text: texts, strategy: strategy(n)), numeric: numeric, texts: texts, "\(n) parts",
                       sourceLocation: sourceLocation)
        }
        return one
    }

    func expectSame(_ a: CSVColumns, _ b: CSVColumns, numeric: [String], texts: [String], _ context: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.rowCount == b.rowCount, "\(context)", sourceLocation: sourceLocation)
        for name in numeric {
            #expect(firstDifference(a.number(name), b.number(name)) == nil, "\(name), \(context)", sourceLocation: sourceLocation)
        }
        for name in texts { #expect(a.string(name) == b.string(name), "\(name), \(context)", sourceLocation: sourceLocation) }
    }

    /// A number in one of many spellings, and the value `strtod` gives for it.
    func number(_ rng: inout Xoshiro256) -> String {
        let sign = ["", "", "-", "+"][Int.random(in: 0..<4, using: &rng)]
        switch Int.random(in: 0..<14, using: &rng) {
        case 0: return String(format: "%.6f", 3 * rng.normal())
        case 1: return sign + String(Int.random(in: 0..<1_000_000, using: &rng))
        case 2: return ["0", "1", "-0", "0.0", "-0.000000"][Int.random(in: 0..<5, using: &rng)]
        case 3:  // any finite double, shortest round trip and 17 digits
            let v = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
            return sign + (rng.uniform() < 0.5 ? "\(v)" : String(format: "%.17g", v))
        case 4: return String(format: ["%.3e", "%.10E", "%+.0e", "%.15e"][Int.random(in: 0..<4, using: &rng)],
                              rng.normal() * pow(10, Double(Int.random(in: -40...40, using: &rng))))
        case 5:  // many digits, beyond the 19 the fast form takes, with leading zeros sometimes
            var s = sign + (rng.uniform() < 0.3 ? "000" : "")
            for _ in 0..<Int.random(in: 15...30, using: &rng) { s += String(Int.random(in: 0..<10, using: &rng)) }
            if rng.uniform() < 0.5 { s.insert(".", at: s.index(s.endIndex, offsetBy: -Int.random(in: 1...10, using: &rng))) }
            return s
        case 6: return sign + "0.000000000000000000000" + String(Int.random(in: 1..<100_000, using: &rng))
        case 7: return sign + ["5.", ".5", ".5e3", "5.e-2", "1E+22", "1e23", "1e-22", "4.9e-324", "1e0005", "0e500", "1e-400"][Int.random(in: 0..<11, using: &rng)]
        case 8: return sign + "9007199254740993"  // 2^53 + 1: not exact in the fast form
        case 9: return sign + String(UInt64.random(in: 1 << 50...1 << 56, using: &rng))  // around the fast form's mantissa limit
        case 10: return " " + String(format: "%.2f", rng.normal()) + (rng.uniform() < 0.5 ? " " : "")  // spaces are allowed
        case 11: return String(format: "%.\(Int.random(in: 0...20, using: &rng))f", rng.normal() * 1e5)
        case 12: return sign + String(Int.random(in: 0..<100, using: &rng)) + "e" + String(Int.random(in: -30...30, using: &rng))
        default: return String(format: "%g", rng.normal())
        }
    }

    /// A file of `rows` records with numeric, text and unread columns, LF or CRLF line ends, blank
    /// lines, and a last line with or without its line end.
    func randomFile(seed: UInt64, rows: Int) -> (text: String, numeric: [String], texts: [String]) {
        var rng = Xoshiro256(seed: seed)
        let kinds = ["n", "n", "t", "n", "skip", "n", "n", "t"]
        let header = kinds.enumerated().map { "\($0.element)\($0.offset)" }
        var text = header.joined(separator: ",") + (rng.uniform() < 0.5 ? "\r\n" : "\n")
        for r in 0..<rows {
            if rng.uniform() < 0.01 { text += rng.uniform() < 0.5 ? "\n" : "\r\n" }
            let fields = kinds.map { kind -> String in
                switch kind {
                case "n": return number(&rng)
                case "t": return ["", "a", "x y", "a\rb", "Müller", "-1.5", " 7 "][Int.random(in: 0..<7, using: &rng)]
                default: return ["", "zz", "1;5"][Int.random(in: 0..<3, using: &rng)]
                }
            }
            text += fields.joined(separator: ",")
            if r < rows - 1 || rng.uniform() < 0.5 { text += rng.uniform() < 0.3 ? "\r\n" : "\n" }
        }
        return (text, header.filter { $0.hasPrefix("n") }, header.filter { $0.hasPrefix("t") })
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func quoteFreePathMatchesGeneralPathBitForBit(seed: UInt64) throws {
        let rows = 3000
        let (text, numeric, texts) = randomFile(seed: seed, rows: rows)
        let csv = try CSVFile(path: try temporaryCSV(text))
        try expectOnePassEverywhere(csv, rows: rows, numeric: numeric, texts: texts, parts: [1, 2, 3, 7, 16]) { .quoteFree(parts: $0) }
        // Both agree with strtod on every value (the generated spellings are all finite numbers).
        let automatic = try csv.read(numeric: numeric, text: texts)
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).dropFirst()
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }.filter { !$0.isEmpty }
        #expect(lines.count == rows)
        for (r, line) in lines.enumerated() where r % 7 == 0 {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            for name in numeric {
                let i = Int(name.dropFirst())!
                let s = String(fields[i]).trimmingCharacters(in: .whitespaces)
                #expect(automatic.number(name)[r].bitPattern == strtod(s, nil).bitPattern, "row \(r) \(name) '\(s)'")
            }
        }
    }

    @Test func aLargeQuoteFreeFileIsSplitAndMatchesTheGeneralPath() throws {
        let (text, numeric, texts) = randomFile(seed: 99, rows: 15_000)
        #expect(text.utf8.count >= 1 << 20)  // large enough for `read` to split it by cores
        let csv = try CSVFile(path: try temporaryCSV(text))
        let automatic = try csv.read(numeric: numeric, text: texts)
        let general = try csv.read(numeric: numeric, text: texts, strategy: .general(parts: 1))
        expectSame(general, automatic, numeric: numeric, texts: texts, "automatic")
    }

    @Test func columnsAreFilledInPlaceOrThroughABufferAlike() throws {
        for limit in [0, 2, 256] {
            let columns = try CSVFile.makeColumns(count: 5, capacity: 10, inPlaceLimit: limit) { pointers in
                for (k, p) in pointers.enumerated() { for r in 0..<7 { p[r] = Double(10 * k + r) } }
                return 7
            }
            #expect(columns == (0..<5).map { k in (0..<7).map { Double(10 * k + $0) } }, "limit \(limit)")
        }
        // A file wider than the in-place limit.
        var rng = Xoshiro256(seed: 3)
        let names = (0..<300).map { "x\($0)" }
        var text = names.joined(separator: ",") + "\n"
        for _ in 0..<50 { text += names.map { _ in String(format: "%.5g", rng.normal()) }.joined(separator: ",") + "\n" }
        let csv = try CSVFile(path: try temporaryCSV(text))
        let fast = try csv.read(numeric: names, strategy: .quoteFree(parts: 3))
        let general = try csv.read(numeric: names, strategy: .general(parts: 1))
        for name in names { #expect(firstDifference(fast.number(name), general.number(name)) == nil, "\(name)") }
    }

    @Test func textColumnsOnlyOverSeveralRanges() throws {
        let (text, _, texts) = randomFile(seed: 5, rows: 2000)
        let csv = try CSVFile(path: try temporaryCSV(text))
        let general = try csv.read(numeric: [], text: texts, strategy: .general(parts: 1))
        let fast = try csv.read(numeric: [], text: texts, strategy: .quoteFree(parts: 6))
        #expect(fast.rowCount == 2000 && fast.numeric.isEmpty)
        for name in texts { #expect(fast.string(name) == general.string(name)) }
    }

    @Test func aColumnReadAsNumberAndTextAndAFileWithoutRows() throws {
        let csv = try CSVFile(path: try temporaryCSV("a,b\n1.5,x\n-2,y"))
        let both = try csv.read(numeric: ["a"], text: ["a", "b"])
        #expect(both.number("a") == [1.5, -2])
        #expect(both.string("a") == ["1.5", "-2"])
        let empty = try CSVFile(path: try temporaryCSV("a,b\r\n")).read(numeric: ["a"], text: ["b"], strategy: .quoteFree(parts: 3))
        #expect(empty.rowCount == 0 && empty.number("a").isEmpty && empty.string("b").isEmpty)
    }

    /// Bad records placed in a larger file: the quote-free path on several ranges reports the same
    /// error as the general path, naming the line, column and value.
    @Test func quoteFreeErrorsNameLineColumnAndValue() throws {
        let cases: [(record: String, column: String?, value: String?, message: String)] = [
            ("1,2,x7,4", "c", "x7", "not a finite number"),
            ("1,2,,4", "c", "", "missing value; expected a number"),
            ("1,2,3", nil, nil, "expected 4 fields as in the header, found 3"),
            ("1,2,3,4,5", nil, nil, "expected 4 fields as in the header, found 5"),
            ("1,2,3\r,4", "c", "3\r", "not a finite number"),
            ("1,2,nan,4", "c", "nan", "not a finite number"),
            ("1,-inf,3,4", "b", "-inf", "not a finite number"),
            ("1,2,1e400,4", "c", "1e400", "not a finite number"),
            ("1,2,3,4e", "d", "4e", "not a finite number"),
            ("1,2,0x1p3,4", "c", "0x1p3", "not a finite number"),
            ("1,2,3,4 5", "d", "4 5", "not a finite number"),
            ("1,2,1.2.3,4", "c", "1.2.3", "not a finite number"),
            ("1,2,-,4", "c", "-", "not a finite number"),
            ("1,2,3,4\r\r", "d", "4\r", "not a finite number"),
            (" ", nil, nil, "expected 4 fields as in the header, found 1"),
        ]
        var rng = Xoshiro256(seed: 11)
        for (k, bad) in cases.enumerated() {
            let rows = 2000
            let badRow = Int.random(in: 0..<rows, using: &rng)
            var text = "a,b,c,d\n"
            var line = 1
            var badLine = 0
            for r in 0..<rows {
                if rng.uniform() < 0.05 { text += "\n"; line += 1 }
                line += 1
                if r == badRow {
                    badLine = line
                    text += bad.record + "\n"
                } else {
                    text += (0..<4).map { _ in String(format: "%.4f", rng.normal()) }.joined(separator: ",")
                    text += rng.uniform() < 0.5 ? "\r\n" : "\n"
                }
            }
            let path = try temporaryCSV(text)
            let expected = CSVError(file: path, line: badLine, column: bad.column, value: bad.value, message: bad.message)
            let csv = try CSVFile(path: path)
            for strategy in [CSVFile.Strategy.general(parts: 1), .general(parts: 5), .quoteFree(parts: 1), .quoteFree(parts: 5)] {
                #expect(throws: expected, "case \(k), \(strategy)") {
                    try csv.read(numeric: ["a", "b", "c", "d"], strategy: strategy)
                }
            }
        }
    }

    @Test func theFirstErrorInTheFileIsReportedWhenSeveralRangesFail() throws {
        var text = "a,b\n"
        for r in 0..<1000 { text += r == 300 || r == 900 ? "1,oops\(r)\n" : "\(r),\(r)\n" }
        let path = try temporaryCSV(text)
        #expect(throws: CSVError(file: path, line: 302, column: "b", value: "oops300", message: "not a finite number")) {
            try CSVFile(path: path).read(numeric: ["a", "b"], strategy: .quoteFree(parts: 4))
        }
    }

    /// A file with quoted fields, numbers among them, holding commas, doubled quotes and line ends
    /// (so that many records span lines and cuts between ranges fall inside them), blank lines and
    /// both line-end styles.
    func quotedFile(seed: UInt64, rows: Int) -> (text: String, numeric: [String], texts: [String]) {
        var rng = Xoshiro256(seed: seed)
        let header = ["n0", "t1", "n2", "t3"]
        var text = header.joined(separator: ",") + "\n"
        let pieces = ["a", "Müller, Anna", "say \"\"hi\"\"", "line\nbreak", "\r\n", "\n\n", ",", " ", "x\ny\nz"]
        for r in 0..<rows {
            if rng.uniform() < 0.01 { text += rng.uniform() < 0.5 ? "\n" : "\r\n" }
            func quotedText() -> String {
                "\"" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }.joined() + "\""
            }
            let n0 = rng.uniform() < 0.3 ? "\"" + number(&rng) + "\"" : number(&rng)
            let t1 = rng.uniform() < 0.6 ? quotedText() : ["", "plain", "7"][Int.random(in: 0..<3, using: &rng)]
            let t3 = rng.uniform() < 0.3 ? quotedText() : "end"
            text += [n0, t1, String(format: "%.5f", rng.normal()), t3].joined(separator: ",")
            if r < rows - 1 || rng.uniform() < 0.5 { text += rng.uniform() < 0.3 ? "\r\n" : "\n" }
        }
        return (text, ["n0", "n2"], ["t1", "t3"])
    }

    @Test("files with quotes parse alike on one range and on many, cuts inside quoted fields included", arguments: [1, 2, 3])
    func quotedFilesOnSeveralRangesMatchOnePass(seed: UInt64) throws {
        let rows = 3000
        let (text, numeric, texts) = quotedFile(seed: seed, rows: rows)
        let csv = try CSVFile(path: try temporaryCSV(text))
        let one = try expectOnePassEverywhere(csv, rows: rows, numeric: numeric, texts: texts, parts: [2, 3, 7, 16, 64, 200]) { .general(parts: $0) }
        #expect(one.string("t1").contains { $0.contains("\n") } && one.string("t1").contains { $0.contains("\"") })
        expectSame(one, try csv.read(numeric: numeric, text: texts), numeric: numeric, texts: texts, "automatic")
    }

    @Test("errors in files with quotes are the same on one range and on many")
    func quotedErrorsOnSeveralRangesMatchOnePass() throws {
        let bad = ["1,\"a\"b,2,x", "1,\"open\nstill open,2,x", "\"1\n\",x,2,y", "1,x,2", "oops,\"x\ny\",2,z"]
        for (k, record) in bad.enumerated() {
            var (text, numeric, texts) = quotedFile(seed: 40 + UInt64(k), rows: 1500)
            // Lines split at every LF (a Character split would keep "\r\n" whole).
            let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
            // After a record that ends on a line of its own (no quoted field open there).
            let cut = lines.indices.dropFirst(lines.count / 2).first { lines[$0].hasSuffix(",end") || lines[$0].hasSuffix(",end\r") } ?? 1
            text = (lines[...cut] + [record] + lines[(cut + 1)...]).joined(separator: "\n")
            let path = try temporaryCSV(text)
            let csv = try CSVFile(path: path)
            var expected: CSVError?
            do { _ = try csv.read(numeric: numeric, text: texts, strategy: .general(parts: 1)) } catch let e as CSVError { expected = e }
            let error = try #require(expected, "case \(k): no error on one range")
            #expect(error.line == cut + 2, "case \(k): \(error)")
            for parts in [3, 17, 120] {
                #expect(throws: error, "case \(k), \(parts) parts") {
                    try csv.read(numeric: numeric, text: texts, strategy: .general(parts: parts))
                }
            }
        }
    }

    @Test func fastPathLimitsMatchParseDouble() throws {
        // Spellings at the edges of the fast form: 19 digits, 2^53, exponents ±22 and ±23.
        let samples = ["1234567890123456789", "123456789012345678", "9007199254740992", "9007199254740993",
                       "1e22", "1e23", "1e-22", "1e-23", "123456789e-22", "0.0000000000000000000001", "-0", "+0.0e-0",
                       "9999999999999999999", "00000000000000000001", "1.0000000000000000001", "4.4e+22", "1e-9999"]
        let text = "x\n" + samples.joined(separator: "\n") + "\n"
        let csv = try CSVFile(path: try temporaryCSV(text))
        let values = try csv.read(numeric: ["x"], strategy: .quoteFree(parts: 1))
        #expect(values.number("x").map(\.bitPattern) == samples.map { parseDouble($0)!.bitPattern })
    }
}
