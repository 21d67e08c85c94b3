import Foundation
import LinAlg
import Testing
@testable import Tabular

/// `text` written to a new temporary `.csv` file; returns its path.
func temporaryCSV(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pom-csv-\(UUID().uuidString).csv").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct CSVTests {

    @Test func readsNumericAndTextColumns() throws {
        let path = try temporaryCSV("y,x,name\n1,0.5,\"Müller, Anna\"\r\n0,-2e-3,\"say \"\"hi\"\"\"\n")
        let cols = try CSVFile(path: path).read(numeric: ["y", "x"], text: ["name"])
        #expect(cols.rowCount == 2)
        #expect(cols.number("y") == [1, 0])
        #expect(cols.number("x") == [0.5, -0.002])
        #expect(cols.string("name") == ["Müller, Anna", "say \"hi\""])
    }

    @Test func errorsNameFileLineColumnAndValue() throws {
        let path = try temporaryCSV("a,b\n1,2\n3,x7\n")
        #expect(throws: CSVError(file: path, line: 3, column: "b", value: "x7", message: "not a finite number")) {
            try CSVFile(path: path).read(numeric: ["a", "b"])
        }
        let missing = try temporaryCSV("a,b\n1,\n")
        #expect(throws: CSVError(file: missing, line: 2, column: "b", value: "", message: "missing value; expected a number")) {
            try CSVFile(path: missing).read(numeric: ["b"])
        }
        let ragged = try temporaryCSV("a,b\n1,2\n1,2,3\n")
        #expect(throws: CSVError(file: ragged, line: 3, message: "expected 2 fields as in the header, found 3")) {
            try CSVFile(path: ragged).read(numeric: ["a"])
        }
        #expect(throws: CSVError.self) { try CSVFile(path: path).read(numeric: ["nope"]) }
    }

    @Test func quoteErrorsNameTheLine() throws {
        let unclosed = try temporaryCSV("a,b\n1,2\n3,\"4\n")
        #expect(throws: CSVError(file: unclosed, line: 3, message: "a quoted field is not closed before the end of the file")) {
            try CSVFile(path: unclosed).read(numeric: ["a", "b"])
        }
        let stray = try temporaryCSV("a,b\n1,2\n\"x\"y,4\n5,6\n")
        #expect(throws: CSVError(file: stray, line: 3, message: "unexpected character after a closing quote")) {
            try CSVFile(path: stray).read(numeric: ["b"], text: ["a"])
        }
    }

    @Test func parsesNumbersExactly() throws {
        let samples = ["0", "-0.0", "1", "3.141592653589793", "1e-300", "2.2250738585072014e-308", "123456789012345678901234",
                       "0.1", "7.0e22", "9007199254740993", "+4.5", " 6 ", "1.7976931348623157e308", "5e-324"]
        for s in samples {
            #expect(parseDouble(s) == strtod(s.trimmingCharacters(in: .whitespaces), nil), "\(s)")
        }
        for bad in ["", "-", "1e", "1.2.3", "abc", "1,5"] { #expect(parseDouble(bad) == nil, "\(bad)") }
        var rng = Xoshiro256(seed: 7)
        for _ in 0..<2000 {
            let v = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
            let s = String(format: "%.17g", v)
            #expect(parseDouble(s) == v, "\(s)")
        }
    }

    @Test func parallelParseMatchesSerial() throws {
        var text = "id,v\n"
        for i in 0..<120_000 { text += "\(i),\(Double(i) * 0.25)\n" }
        let cols = try CSVFile(path: try temporaryCSV(text)).read(numeric: ["id", "v"])
        #expect(cols.rowCount == 120_000)
        #expect(cols.number("id") == (0..<120_000).map(Double.init))
        #expect(cols.number("v")[119_999] == 119_999 * 0.25)
    }

    @Test func lineOfRowCountsBlankLinesAndQuotedLineBreaks() throws {
        let path = try temporaryCSV("a,b\n1,2\n\n\"x\ny\",3\r\n4,5\n")
        let csv = try CSVFile(path: path)
        #expect(try csv.read(numeric: ["b"]).rowCount == 3)
        #expect(csv.line(ofRow: 0) == 2)
        #expect(csv.line(ofRow: 1) == 4)
        #expect(csv.line(ofRow: 2) == 6)
    }
}
