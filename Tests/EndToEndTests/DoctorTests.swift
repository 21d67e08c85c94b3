import Foundation
import LinAlg
import Testing

@Suite struct DoctorTests {
    struct Report: Decodable {
        var coreName: String
        var kernelChoice: String
        var recommendedCore: String?
        var openBLASThreads: Int
        var vectorExtensions: [String]
    }

    func doctor(_ tool: String, _ environment: [String: String]) throws -> Report {
        let out = try Binaries.run(tool, ["doctor", "--json"], environment: environment)
        #expect(out.status == 0, "\(out.stderr)")
        return try JSONDecoder().decode(Report.self, from: Data(out.stdout.utf8))
    }

    @Test(arguments: ["pom-train", "pom-orchestrate"])
    func runsAKernelAtLeastAsWideAsTheCPUAllows(tool: String) throws {
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil {
            // The machine pins a kernel on purpose (some CPUs need it); pom must respect that.
            let report = try doctor(tool, ProcessInfo.processInfo.environment)
            #expect(report.kernelChoice.contains("environment"))
            return
        }
        let report = try doctor(tool, Binaries.cleanEnvironment)
        if let best = report.recommendedCore {
            #expect(OpenBLASCore.rank(report.coreName) >= OpenBLASCore.rank(best), "\(report.coreName) vs \(best)")
        }
        #expect(OpenBLASCore.rank(report.coreName) > OpenBLASCore.rank("Prescott") || report.recommendedCore == nil)
        #expect(report.openBLASThreads == 1)
        #expect(report.vectorExtensions.contains("sse2"))
    }

    @Test func theUsersChoiceOfKernelWins() throws {
        var env = Binaries.cleanEnvironment
        env["OPENBLAS_CORETYPE"] = "Prescott"
        let report = try doctor("pom-train", env)
        #expect(report.coreName == "Prescott")
        #expect(report.kernelChoice.contains("environment"))
        env["OPENBLAS_CORETYPE"] = nil
        env["POM_BLAS_AUTOSELECT"] = "0"
        #expect(try doctor("pom-train", env).kernelChoice.contains("POM_BLAS_AUTOSELECT=0"))
    }

    @Test func humanReadableDoctorNamesKernelAndLibraries() throws {
        let out = try Binaries.run("pom-train", ["doctor"])
        #expect(out.status == 0)
        #expect(out.stdout.contains("OpenBLAS kernel:"))
        #expect(out.stdout.contains("liblapacke"))
    }
}
