import ArgumentParser
import Foundation
import LinAlg

/// pom's version, printed by `--version`.
public let pomVersion = "0.1.0"

/// `doctor`: what pom runs on — BLAS/LAPACK libraries, the OpenBLAS kernel and how it was
/// chosen, threads, and the CPU's vector extensions.
public struct Doctor: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show the BLAS/LAPACK runtime: libraries, OpenBLAS kernel, threads, CPU vector extensions.")

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    public init() {}

    public func run() throws {
        let report = BLASRuntime.report
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("pom \(pomVersion)")
        print("CPU:               \(report.cpuModel) (\(report.cpuVendor))")
        print("vector extensions: \(report.vectorExtensions.joined(separator: " "))")
        print("OpenBLAS kernel:   \(report.coreName) — \(report.kernelChoice)")
        if let before = report.detectedCoreBeforeSelection {
            print("                   (OpenBLAS had detected \(before) by itself)")
        }
        print("best for this CPU: \(report.recommendedCore ?? "no specific kernel")")
        print("OpenBLAS build:    \(report.openBLASConfiguration)")
        print("threads:           \(report.openBLASThreads) OpenBLAS, \(report.pomThreads) pom workers (POM_THREADS)")
        print("libraries:")
        for library in report.libraries { print("  \(library)") }
    }
}
