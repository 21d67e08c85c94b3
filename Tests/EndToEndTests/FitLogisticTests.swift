import Foundation
import POMCommandLine
import Testing

/// `pom-train fit logistic` on the data sets of `Tests/OptimizerTests/Fixtures/logistic` (reference values
/// from statsmodels and scikit-learn, made by `scripts/reference/logistic.py`), as the data team runs it.
@Suite struct FitLogisticTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("OptimizerTests/Fixtures/logistic")

    struct Reference: Decodable {
        struct Fit: Decodable {
            var intercept: Double
            var coefficients: [Double]
            var intercept_standard_error: Double
            var standard_errors: [Double]
            var log_likelihood: Double
        }
        struct DataSet: Decodable {
            var features: [String]
            var unpenalised: Fit?
            var l2: [String: Fit]?
        }
        var sets: [String: DataSet]
    }

    static func reference(_ name: String) throws -> Reference.DataSet {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("reference.json"))
        return try #require(try JSONDecoder().decode(Reference.self, from: data).sets[name])
    }

    static func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pom-fit-\(UUID().uuidString)-\(name)").path
    }

    static func close(_ a: Double?, _ b: Double, rtol: Double = 1e-6) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= 1e-9 + rtol * abs(b)
    }

    @Test func binaryWritesTheContractJSON() throws {
        let ref = try Self.reference("plain")
        let u = try #require(ref.unpenalised)
        let out = Self.temporaryFile("plain.json")
        let run = try Binaries.run("pom-train", ["fit", "logistic", "--data", Self.fixtures.appendingPathComponent("plain.csv").path,
                                                 "--target", "y", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(Self.close(json["intercept"] as? Double, u.intercept))
        let coefficients = try #require(json["coefficients"] as? [String: Double])
        let errors = try #require(json["standard_errors"] as? [String: Double])
        // Features default to every column but the target.
        #expect(Set(coefficients.keys) == Set(ref.features))
        for (j, name) in ref.features.enumerated() {
            #expect(Self.close(coefficients[name], u.coefficients[j]), "\(name)")
            #expect(Self.close(errors[name], u.standard_errors[j]), "SE \(name)")
        }
        #expect(Self.close(errors["intercept"], u.intercept_standard_error))
        #expect(Self.close(json["log_likelihood"] as? Double, u.log_likelihood, rtol: 1e-9))
        #expect(json["converged"] as? Bool == true)
        #expect((json["iterations"] as? Int).map { $0 > 0 } == true)
        #expect(json["solver"] as? String == "newton")
        #expect(json["n"] as? Int == 2000)
    }

    @Test func inProcessFitWithPenaltyAndFeatureSubset() throws {
        let ref = try #require(try Self.reference("plain").l2?["10.0"])
        let command = try FitLogistic.parse(["--data", Self.fixtures.appendingPathComponent("plain.csv").path, "--target", "y",
                                             "--features", "amount,days_overdue,email_valid,prior_late,noise",
                                             "--l2", "10", "--solver", "lbfgs", "--out", Self.temporaryFile("unused.json")])
        let output = try command.fit()
        #expect(output.solver == "lbfgs" && output.converged)
        #expect(output.features == ["amount", "days_overdue", "email_valid", "prior_late", "noise"])
        #expect(Self.close(output.intercept, ref.intercept))
        for (j, name) in output.features.enumerated() {
            #expect(Self.close(output.coefficients[name], ref.coefficients[j]), "\(name)")
        }
        #expect(Self.close(output.logLikelihood, ref.log_likelihood, rtol: 1e-9))
    }

    @Test func badInputNamesFileLineColumnAndValue() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-fit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func file(_ name: String, _ text: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let cases: [(String, [String], String)] = [
            (try file("target.csv", "y,a,w\n1,0.5,1\n0,0.1,2\n\n2,0.3,1\n"), [], "target.csv:5, column 'y', value '2': the target must be 0 or 1"),
            (try file("weight.csv", "y,a,w\n1,0.5,1\n0,0.1,-2\n"), ["--weight", "w"], "weight.csv:3, column 'w', value '-2': a weight must be a number >= 0"),
            (try file("text.csv", "y,a,w\n1,0.5,1\n0,abc,1\n"), [], "text.csv:3, column 'a', value 'abc': not a finite number"),
            (try file("column.csv", "y,a,w\n1,0.5,1\n"), ["--features", "a,b"], "column.csv:1, column 'b': no such column"),
        ]
        for (path, extra, message) in cases {
            let out = dir.appendingPathComponent("out.json").path
            let run = try Binaries.run("pom-train", ["fit", "logistic", "--data", path, "--target", "y", "--out", out] + extra)
            #expect(run.status != 0)
            #expect(run.stderr.contains(message), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func separatedDataIsAnErrorAndQuasiSeparationAWarning() throws {
        let out = Self.temporaryFile("separated.json")
        let separated = try Binaries.run("pom-train", ["fit", "logistic", "--data", Self.fixtures.appendingPathComponent("separated.csv").path,
                                                       "--target", "y", "--out", out])
        #expect(separated.status != 0)
        #expect(separated.stderr.contains("completely separated by x1, x2"), "\(separated.stderr)")
        let quasi = try Binaries.run("pom-train", ["fit", "logistic", "--data", Self.fixtures.appendingPathComponent("quasi_separated.csv").path,
                                                   "--target", "y", "--out", out])
        #expect(quasi.status == 0)
        #expect(quasi.stderr.contains("warning: quasi-complete separation"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(json["converged"] as? Bool == false)
        #expect((json["warnings"] as? [String])?.first?.contains("coefficients of flag diverge") == true)
    }
}
